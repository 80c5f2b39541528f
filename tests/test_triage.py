"""The classifier as a texter meets it: keywords by rule, everything else by encoder and head."""

from __future__ import annotations

import numpy as np
import pytest

from bot import store
from bot.triage.classify import Classifier, default_classifier
from bot.triage.contract import contract
from bot.triage.head import Head, Settings
from bot.triage.keywords import Keywords
from bot.triage.languages import LanguageReader
from tests.helpers import HOTLINE, reply

CRITICAL = contract().critical


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return default_classifier()


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("HELP", "help"),
        ("hlep", "help"),
        ("Help!!", "help"),
        ("helpp", "help"),
        ("STOP", "stop"),
        ("stpo", "stop"),
        ("Stop please", "stop"),
        ("unsubscrive", "stop"),
        ("START", "start"),
        ("unstop", "start"),
        ("INFO", "info"),
        ("INFRO", "info"),
        ("AGENT", "talk_to_person"),
        ("AYUDA", "help"),
        ("aide", "help"),
        ("ESPAÑOL", "language"),
        ("en français", "language"),
        ("spanish please", "language"),
    ],
)
def test_keywords_and_language_names_are_rules(
    classifier: Classifier, text: str, intent: str
) -> None:
    result = classifier.classify(text)
    assert result.intent == intent
    assert result.matched and result.matched.split(":")[0] in {"keyword", "language"}


@pytest.mark.parametrize("text", ["cancer", "star", "into", "hell", "stop texting me", "help me"])
def test_everyday_words_near_a_keyword_are_not_keywords(text: str) -> None:
    assert Keywords().find(text) is None


def test_language_name_switches_the_reply_language(classifier: Classifier) -> None:
    result = classifier.classify("en español por favor")
    assert (result.intent, result.switch_to) == ("language", "es")


def test_bare_keyword_takes_the_conversation_language(classifier: Classifier) -> None:
    assert classifier.classify("HELP").language == "en"
    assert classifier.classify("HELP", conversation_language="es").language == "es"
    assert classifier.classify("AYUDA").language == "es"


# The messages the old phrase lexicon failed on (issue 11): plain danger in many languages.
@pytest.mark.parametrize(
    ("text", "intents"),
    [
        ("he is going to hit me help", {"emergency"}),
        ("me van a pegar, ayuda", {"emergency"}),
        ("hes home early and hes drunk. pls come", {"emergency"}),
        ("is there a painless way to end your life", {"self_harm"}),
        ("saved up my meds for two weeks. tonight is the night", {"self_harm"}),
        ("chcę się zabić", {"self_harm"}),
        ("살려주세요 그 사람이 문을 잠갔어요", CRITICAL),
        ("ช่วยด้วย เขาจะทำร้ายฉัน", CRITICAL),
    ],
)
def test_danger_is_critical_in_any_language(
    classifier: Classifier, text: str, intents: set[str]
) -> None:
    result = classifier.classify(text)
    if result.doubt:  # the doubt band: queued high, answered with the emergency reply
        assert result.top[0][0] in intents and result.priority == "high", result
    else:
        assert result.intent in intents and result.priority == "critical", result


@pytest.mark.parametrize("text", ["hello i need help", "hola necesito ayuda"])
def test_a_greeting_with_a_plea_is_help(classifier: Classifier, text: str) -> None:
    assert classifier.classify(text).intent == "help"


@pytest.mark.parametrize(
    "text",
    [
        "this homework is killing me lol",
        "what time does the bus come",
        "He's my favorite roommate",
        "honestly",
        "I'm stuck in traffic, be there in 10",
    ],
)
def test_everyday_chatter_is_not_critical(classifier: Classifier, text: str) -> None:
    result = classifier.classify(text)
    assert result.priority != "critical", result


def test_result_explains_itself(classifier: Classifier) -> None:
    result = classifier.classify("my boss took my passport and wont pay me")
    assert result.matched == "model"
    assert len(result.top) == 3 and result.top[0][1] >= result.top[1][1]
    assert abs(sum(p for _, p in result.top)) <= 1.0001
    assert result.as_dict()["top"][0][0] == result.top[0][0]


def test_batches_give_the_same_answers(classifier: Classifier) -> None:
    texts = ["i need a lawyer", "STOP", "", "they locked the door and took my phone"]
    one_by_one = [classifier.classify(t) for t in texts]
    assert classifier.classify_many(texts) == one_by_one


class _Fixed:
    """An encoder that returns given vectors: the decision rule is tested apart from e5."""

    name, dim = "fixed", 16

    def __init__(self, probabilities: list[float]) -> None:
        self.vector = np.log(np.asarray(probabilities, dtype=np.float32) + 1e-9)

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.tile(self.vector, (len(texts), 1))


def fixed_classifier(
    probabilities: dict[str, float], critical: float = 0.5, doubt: float = 0.2
) -> Classifier:
    """A classifier that reads every free text with the given intent probabilities."""
    terms = contract()
    p = [probabilities.get(i, 0.0) for i in terms.intents]
    head = Head(
        terms.intents,
        np.zeros(16, np.float32),
        np.ones(16, np.float32),
        [[(np.eye(16, dtype=np.float32), np.zeros(16, np.float32))]],
        np.zeros((0, 16), np.float32),
        np.zeros(0, np.intp),
        Settings(neighbour_weight=0.0),
        {"thresholds": {"critical": critical, "doubt": doubt}},
    )
    latin_is_english = LanguageReader(head, {"latin": ["en"]})
    return Classifier(_Fixed(p), head, Keywords(), terms, latin_is_english)


def _rule(probabilities: dict[str, float], critical: float = 0.5, doubt: float = 0.2):
    return fixed_classifier(probabilities, critical, doubt).classify("some words")


def test_critical_together_outranks_a_likelier_intent() -> None:
    # emergency and self_harm together pass the critical threshold: precedence puts them first
    result = _rule({"help": 0.45, "emergency": 0.30, "self_harm": 0.25})
    assert (result.intent, result.priority) == ("emergency", "critical")


def test_doubt_band_raises_priority_but_keeps_the_intent() -> None:
    result = _rule({"info": 0.7, "emergency": 0.3})
    assert (result.intent, result.priority, result.doubt) == ("info", "high", True)


def test_below_the_doubt_band_nothing_is_raised() -> None:
    result = _rule({"greeting": 0.9, "emergency": 0.1})
    assert (result.intent, result.priority, result.doubt) == ("greeting", "low", False)


def test_doubt_never_lowers_a_priority() -> None:
    result = _rule({"help": 0.7, "self_harm": 0.3})
    assert (result.intent, result.priority, result.doubt) == ("help", "high", True)


@pytest.mark.parametrize(
    "text",
    [
        "i am not in danger, i just have a question about visas",
        "no estoy en peligro, solo quiero informacion",
        "my supervisor is gonna murder me if i miss the bus again lmao",
        "je suis morte de fatigue mdr",
        "locked out of my flat again, can you bring the spare key",
        "the game was a shootout",
        "URGENT! you won a prize, call now",
    ],
)
def test_negations_jokes_and_idioms_are_not_critical(classifier: Classifier, text: str) -> None:
    assert classifier.classify(text).intent not in CRITICAL


@pytest.mark.parametrize(
    "text",
    [
        "he is going to kill me when he gets back",
        "he wont stop hitting her, she is screaming",
        "im not ok. i keep thinking about ending it",
        "make him stop please hes hurting me",
    ],
)
def test_danger_with_negations_or_help_words_stays_critical(
    classifier: Classifier, text: str
) -> None:
    assert classifier.classify(text).intent in CRITICAL


def test_own_case_is_help_and_someone_elses_is_report(classifier: Classifier) -> None:
    assert classifier.classify("they force me to work 18 hours without pay").intent == "help"
    assert (
        classifier.classify(
            "my cousin is forced to work 18 hours without pay and they took her passport"
        ).intent
        == "report"
    )


def test_likely_danger_in_doubt_gets_the_emergency_reply_first(app, send_sms) -> None:
    app.extensions["line"].content.classifier = fixed_classifier(
        {"unknown": 0.35, "emergency": 0.65}, critical=0.8
    )
    text = reply(send_sms("hes home early pls come", sender="+15550007778"))
    assert text.startswith("If you are in danger now, call 911")


def test_a_message_in_doubt_is_queued_high_and_answered_with_the_emergency_number(
    app, send_sms, redis_client
) -> None:
    """Through the webhook: the classifier is unsure a message is critical (the doubt band)."""
    app.extensions["line"].content.classifier = fixed_classifier(
        {"greeting": 0.7, "emergency": 0.3}
    )
    text = reply(send_sms("hey are you there", sender="+15550007777"))
    assert "911" in text and HOTLINE in text
    [row] = [r for r in store.queue(redis_client) if r["cid"] == "sms:+15550007777"]
    assert row["priority"] == "high"
    [inbound] = [
        e for e in store.transcript(redis_client, "sms:+15550007777") if e.direction == "in"
    ]
    assert inbound.intent == "greeting" and inbound.meta["doubt"] is True


def test_an_sos_emoji_is_not_an_empty_message(classifier: Classifier) -> None:
    result = classifier.classify("🆘🆘")
    assert result.priority in {"critical", "high"}
    assert result.intent in CRITICAL or result.doubt or result.intent == "help", result
    assert classifier.classify("...").intent == "unknown"
