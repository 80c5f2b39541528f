"""The files in intents/: valid, complete, and consistent with the contract."""

import json
from pathlib import Path

import pytest

from bot.classify import INTENTS, default_classifier
from bot.datafiles import data_files, load_file
from bot.language import SUPPORTED

INTENTS_DIR = Path(__file__).resolve().parent.parent / "intents"
FILES = data_files(INTENTS_DIR)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_file_has_a_version_and_known_intent(path: Path) -> None:
    doc = load_file(path)
    assert "version" in doc
    if doc.get("kind", "intent") == "intent":
        assert doc["intent"] in INTENTS


def test_every_intent_but_unknown_has_data() -> None:
    lexicon = default_classifier().lexicon
    assert set(lexicon.intents) == set(INTENTS) - {"unknown"}


def test_languages_are_iso_codes() -> None:
    lexicon = default_classifier().lexicon
    phrases = [p for ps in lexicon.by_first.values() for p in ps]
    used = {p.language for p in phrases} | {k.language for k in lexicon.keywords.values()}
    assert used <= set(SUPPORTED) | {"any"}


@pytest.mark.parametrize("intent", ["emergency", "self_harm", "help"])
def test_critical_and_help_cover_every_language(intent: str) -> None:
    lexicon = default_classifier().lexicon
    langs = {p.language for ps in lexicon.by_first.values() for p in ps if p.intent == intent}
    assert set(SUPPORTED) - {"en"} <= langs | {"any"} or set(SUPPORTED) <= langs


def test_no_phrase_is_empty_after_normalising() -> None:
    lexicon = default_classifier().lexicon
    assert all(p.tokens for ps in lexicon.by_first.values() for p in ps)
    assert "" not in lexicon.keywords


def test_own_fresh_sets_stay_good() -> None:
    """Regression on the sets written for this project (tests/data), never on dev.jsonl."""
    from bot.evaluate import evaluate_rows

    data = Path(__file__).resolve().parent / "data"
    rows = [json.loads(line) for path in sorted(data.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) > 600
    report = evaluate_rows(rows)
    assert report["intent_accuracy"] >= 0.95
    assert report["critical_recall"] >= 0.98
    assert report["critical_precision"] >= 0.9
    assert report["language_accuracy"] >= 0.97
