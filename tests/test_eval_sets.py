"""Quality gates on evaluation data only (eval/: never trained on), with the floors a little
under what the untuned sets measured when they were new (docs/triage.md): a change that makes
the line read people worse fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import evaluate
from bot.triage.dataset import read_jsonl

EVAL = Path(__file__).resolve().parent.parent / "eval"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def untuned() -> dict[str, dict]:
    return {
        path.stem: evaluate.evaluate_examples(list(read_jsonl(path)))
        for path in sorted((EVAL / "untuned").glob("*.jsonl"))
    }


def test_there_are_at_least_three_untuned_sets_in_thirty_languages() -> None:
    sets = sorted((EVAL / "untuned").glob("*.jsonl"))
    languages = {ex.language for path in sets for ex in read_jsonl(path)}
    assert len(sets) >= 3 and len(languages) >= 30


def test_people_in_danger_get_the_emergency_number(untuned: dict[str, dict]) -> None:
    # a critical intent or the doubt band: both give the emergency number and queue it high
    for name, report in untuned.items():
        assert report["critical_recall_with_doubt"] >= 0.95, name


def test_critical_intent_recall_and_precision(untuned: dict[str, dict]) -> None:
    for name, report in untuned.items():
        # the critical threshold keeps everyday chat out of the critical queue; what it misses
        # falls in the doubt band (above), still answered with the emergency number
        assert report["critical_recall"] >= 0.60, name
        assert report["critical_precision"] >= 0.90, name


def test_intent_and_language_accuracy(untuned: dict[str, dict]) -> None:
    for name, report in untuned.items():
        assert report["intent_accuracy"] >= 0.78, name
        assert report["language_accuracy"] >= 0.85, name


@pytest.mark.parametrize("name", ["sms_spam_collection", "chatterbot_corpus"])
def test_everyday_texts_are_rarely_critical(name: str) -> None:
    report = evaluate.noise_examples(list(read_jsonl(EVAL / "noise" / f"{name}.jsonl")))
    assert report["critical_per_1000"] <= 1.0, report["flagged_examples"]
