"""The learned backstop (bot/model.py): loading, data errors, and what it adds to the phrases."""

import json
from pathlib import Path

import pytest

from bot.classify import CRITICAL, INTENTS, REPO_INTENTS, Classifier, default_classifier
from bot.datafiles import DataError
from bot.model import load_examples, load_model

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"


def _spam() -> list[str]:
    lines = (SHARED / "sms_spam_collection.tsv").read_text(
        encoding="utf-8", errors="replace").splitlines()
    return [line.split("\t", 1)[1] for line in lines[1:] if "\t" in line]


@pytest.fixture(scope="module")
def backed() -> tuple[Classifier, Classifier]:
    """Phrases alone, and the bot's classifier: phrases + the model of `intents/examples`."""
    full = default_classifier()
    assert full.model is not None, "intents/examples should train the backstop"
    return Classifier(full.lexicon), full


def test_model_loads_from_the_examples_directory(tmp_path: Path) -> None:
    (tmp_path / "examples").mkdir()
    rows = [{"text": "they locked me in the basement", "intent": "emergency"},
            {"text": "see you at the pub tonight", "intent": "unknown"},
            {"text": "i want to end my life", "intent": "self_harm"}]
    (tmp_path / "examples" / "a.jsonl").write_text(
        "\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    assert len(load_examples(tmp_path, INTENTS)) == 3
    model = load_model(tmp_path, INTENTS)
    assert model is not None and set(model.labels) == {"emergency", "unknown", "self_harm"}
    assert load_model(tmp_path / "nothing", INTENTS) is None


@pytest.mark.parametrize(("line", "needle"), [
    ('{"text": "hi", "intent": "greeting"', "invalid JSON"),
    ('{"text": "hi", "intent": "hello"}', "unknown intent"),
    ('{"text": 3, "intent": "greeting"}', "string"),
    ('["hi", "greeting"]', "JSON object"),
])
def test_malformed_examples_name_file_and_line(tmp_path: Path, line: str, needle: str) -> None:
    (tmp_path / "examples").mkdir()
    path = tmp_path / "examples" / "bad.jsonl"
    path.write_text('{"text": "hola", "intent": "greeting"}\n\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_examples(tmp_path, INTENTS)
    assert err.value.line == 3 and err.value.path == str(path)
    assert needle in str(err.value) and "bad.jsonl:3" in str(err.value)


def test_from_directory_reports_a_bad_examples_file(tmp_path: Path) -> None:
    for src in REPO_INTENTS.glob("*.yaml"):
        (tmp_path / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "x.jsonl").write_text("not json\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"x\.jsonl:1"):
        Classifier.from_directory(tmp_path)


# written for this test, not taken from any labelled set: danger the phrases do not know
UNSEEN_DANGER = [
    "he smashed a plate on my head and there is blood everywhere",
    "they are dragging my sister into the truck, she is crying",
    "the guard said tonight he will burn me with the iron if i talk",
    "im tied to the bed, they took my phone, hurry",
    "hes outside the door with a bat",
]


def test_backstop_catches_unseen_danger_the_phrases_miss(backed) -> None:
    alone, model = backed
    caught = [t for t in UNSEEN_DANGER
              if alone.classify(t).intent not in CRITICAL and model.classify(t).intent in CRITICAL]
    assert caught, "the model should add at least one critical catch"
    assert all(model.classify(t).matched.startswith("model:") for t in caught)


def test_spam_half_not_trained_on_stays_calm(backed) -> None:
    _, model = backed
    odd = _spam()[1::2]
    flagged = [t for t in odd if model.classify(t).intent in CRITICAL]
    assert len(flagged) <= 3
