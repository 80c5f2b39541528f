"""Classifier behaviour on fresh messages (none copied from dev.jsonl), one group per intent."""

import subprocess
import sys
from pathlib import Path

import pytest

from bot.classify import INTENTS, PRIORITY, Classifier, Result, default_classifier
from bot.datafiles import DataError

FRESH = {
    "emergency": [
        "he said he will break my arms if i try to run, please send help",
        "they locked me in the storage room",
        "im hiding in the bathroom he has a gun",
        "someone is screaming in the apartment next to mine, sounds like hes beating her",
        "no puedo salir, me tienen encerrada en el sótano",
        "ils me surveillent tout le temps et ne me laissent pas sortir",
    ],
    "self_harm": [
        "i can't take it anymore, i'm going to end my life",
        "i keep thinking i'd be better off dead",
        "ya no quiero vivir",
        "je veux mourir",
    ],
    "help": [
        "hlep",
        "my boss took my passport and says i owe him for the visa",
        "they stopped paying me months ago and i cannot quit",
        "he makes me sell sex to pay off the debt",
        "necesito ayuda, no me pagan",
    ],
    "report": [
        "i think the workers at the car wash on 5th street are being trafficked",
        "how do i report a suspicious house in my neighborhood",
        "my friend's employer took her passport and she can't leave",
    ],
    "talk_to_person": ["can i talk to a real person", "AGENT", "quiero hablar con alguien"],
    "info": ["INFO", "what is human trafficking", "who is this?"],
    "signs": ["what are the signs of trafficking", "how can i tell if someone is a victim"],
    "services": ["i need a place to stay tonight", "can i get a visa if i was trafficked",
                 "lawyer"],
    "get_involved": ["how can i donate", "i want to volunteer", "blue heart campaign"],
    "resources": ["global report on trafficking in persons", "training for police officers",
                  "palermo protocol text"],
    "language": ["ESPAÑOL", "spanish please", "english"],
    "stop": ["STOP", "unsubscribe", "stop texting me", "PARAR", "ARRÊT"],
    "start": ["START", "unstop"],
    "greeting": ["hi", "hola", "hello?"],
    "thanks": ["thank you", "gracias", "ok bye"],
    "unknown": ["what time does the bus come", "asdfgh", "", "lol same"],
}


@pytest.mark.parametrize(
    ("intent", "text"), [(i, t) for i, texts in FRESH.items() for t in texts]
)
def test_fresh_examples(intent: str, text: str) -> None:
    result = default_classifier().classify(text)
    assert result.intent == intent, result
    assert result.priority == PRIORITY[intent]


def test_contract_names() -> None:
    assert len(INTENTS) == 16 and INTENTS[0] == "emergency" and INTENTS[-1] == "unknown"
    assert {PRIORITY[i] for i in ("emergency", "self_harm")} == {"critical"}
    assert set(PRIORITY) == set(INTENTS)


def test_result_shape() -> None:
    result = default_classifier().classify("my boss took my passport")
    assert isinstance(result, Result)
    data = result.as_dict()
    assert set(data) >= {"intent", "priority", "language", "confidence", "matched", "switch_to"}
    assert 0.0 <= result.confidence <= 1.0
    assert result.matched


@pytest.mark.parametrize("text", [
    "i am not in danger, i just have a question about visas",
    "i'm not locked in, i can leave whenever i want",
    "no estoy en peligro",
])
def test_negation_cancels_danger(text: str) -> None:
    assert default_classifier().classify(text).intent not in {"emergency", "self_harm"}


@pytest.mark.parametrize(("text", "intent"), [
    ("make him stop", "emergency"),
    ("please make them stop hurting me", "emergency"),
    ("stop", "stop"),
    ("STOP please", "stop"),
    ("stop texting me", "stop"),
    ("i want to help stop trafficking", "get_involved"),
    ("the bus stop near my house", "unknown"),
])
def test_stop_inside_a_sentence_is_not_an_opt_out(text: str, intent: str) -> None:
    assert default_classifier().classify(text).intent == intent


def test_own_case_is_help_and_someone_elses_is_report() -> None:
    clf = default_classifier()
    assert clf.classify("they force me to work 18 hours without pay").intent == "help"
    assert clf.classify("my cousin is forced to work 18 hours without pay").intent == "report"


def test_precedence_danger_beats_help() -> None:
    text = "my boss took my passport and now he is hitting me"
    assert default_classifier().classify(text).intent == "emergency"


def test_everyday_chatter_is_not_critical() -> None:
    clf = default_classifier()
    for text in ["this traffic is killing me", "my phone is dead lol", "watching a movie tonight",
                 "the game was a shootout", "URGENT! you won a prize, call now"]:
        assert clf.classify(text).priority != "critical", text


def test_conversation_language_for_keywords() -> None:
    result = default_classifier().classify("HELP", conversation_language="es")
    assert (result.intent, result.language) == ("help", "es")


def test_malformed_intents_file_raises_data_error(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text("version: 1\nintent: greeting\nkeywords:\n  en: [hi]\n")
    (tmp_path / "bad.yaml").write_text("version: 1\nintent: help\nphrases:\n  en: [a, b\n")
    with pytest.raises(DataError) as err:
        Classifier.from_directory(tmp_path)
    assert "bad.yaml" in str(err.value) and err.value.line


def test_missing_version_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("intent: help\nkeywords:\n  en: [help]\n")
    with pytest.raises(DataError, match="version"):
        Classifier.from_directory(tmp_path)


def test_classify_module_imports_neither_flask_nor_redis() -> None:
    code = "import sys, bot.classify; print('flask' in sys.modules, 'redis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # laughter marks a joke, however alarming the words
        ("my supervisor is gonna murder me if i miss the bus again lmao", "unknown"),
        ("mi hermano me va a matar cuando vea su coche jajaja", "unknown"),
        ("je suis morte de fatigue mdr", "unknown"),
        ("im dying at this meme 😂", "unknown"),
        # ...but not without it
        ("he is going to kill me when he gets back", "emergency"),
        # a negated danger stays negated; the model may not bring it back
        ("i am not locked in, i just want to know my rights", "unknown"),
        # a negated stop keeps the danger going
        ("he wont stop hitting her, she is screaming", "emergency"),
        ("she is cut and it will not stop bleeding", "emergency"),
        # a negation of another word does not cancel the phrase after it
        ("im not ok. i keep thinking about ending it", "self_harm"),
        ("no estoy bien, me quiero quitar la vida", "self_harm"),
        # an everyday idiom is not a danger, for the phrases or the model
        ("locked out of my flat again, can you bring the spare key", "unknown"),
        ("stuck at work till late, dont wait up", "unknown"),
    ],
)
def test_jokes_negations_and_idioms(text: str, intent: str) -> None:
    assert default_classifier().classify(text).intent == intent
