"""Training is a command: deterministic, checked for staleness, kept apart from evaluation."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.triage import hygiene
from bot.triage.classify import load_classifier
from bot.triage.head import load_head
from bot.triage.train import train
from tests.helpers import EXAMPLES, SMALL, write_set

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def trained(tmp_path: Path) -> tuple[Path, Path]:
    data, model = tmp_path / "train", tmp_path / "model"
    write_set(data, EXAMPLES)
    train(data, model, SMALL, say=lambda _: None)
    return data, model


def test_training_twice_gives_the_same_head(trained: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = trained
    again = tmp_path / "again"
    train(data, again, SMALL, say=lambda _: None)
    first, second = load_head(model), load_head(again)
    for (w1, b1), (w2, b2) in zip(first.members[0], second.members[0], strict=True):
        assert np.array_equal(w1, w2) and np.array_equal(b1, b2)
    assert first.meta["trained_on"] == second.meta["trained_on"]
    assert (model / "head.npz").read_bytes() == (again / "head.npz").read_bytes()


def test_a_trained_head_classifies(trained: tuple[Path, Path]) -> None:
    _, model = trained
    clf = load_classifier(model_dir=model)
    assert clf.classify("he is hitting me right now").intent == "emergency"
    assert clf.classify("STOP").matched == "keyword:stop"


def check(tmp_path: Path, data: Path, model: Path, evaluation: Path) -> list[str]:
    return hygiene.check_all(
        ROOT / "intents",
        ROOT / "responses",
        io.StringIO(),
        train_dir=data,
        eval_dir=evaluation,
        model_dir=model,
    )


def test_check_passes_when_all_is_in_order(trained: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = trained
    write_set(tmp_path / "eval", [("is this the hotline", "info")])
    assert check(tmp_path, data, model, tmp_path / "eval") == []


def test_check_fails_on_a_text_in_training_and_evaluation(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    data, model = trained
    write_set(tmp_path / "eval", [("My boss took my PASSPORT!", "help")])  # same message
    problems = check(tmp_path, data, model, tmp_path / "eval")
    assert len(problems) == 1 and "training and evaluation" in problems[0]


def test_check_fails_on_a_stale_or_missing_head(trained: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = trained
    write_set(tmp_path / "eval", [("is this the hotline", "info")])
    with open(data / "set.jsonl", "a", encoding="utf-8") as out:
        out.write(json.dumps({"text": "a new example", "intent": "unknown"}) + "\n")
    (stale,) = check(tmp_path, data, model, tmp_path / "eval")
    assert "stale" in stale
    shutil.rmtree(model)
    (missing,) = check(tmp_path, data, model, tmp_path / "eval")
    assert "no usable head" in missing


def test_training_refuses_an_intent_the_contract_does_not_have(tmp_path: Path) -> None:
    write_set(tmp_path / "train", [*EXAMPLES, ("hmm", "smalltalk")])
    with pytest.raises(ValueError, match="smalltalk"):
        train(tmp_path / "train", tmp_path / "model", SMALL, say=lambda _: None)
