"""The bot's decision for one message, as a table: conversation state x reading x keyword."""

from __future__ import annotations

import pytest

from bot import decide as decide_module
from bot.decide import Decision
from bot.store import State
from bot.triage.classify import Classification
from bot.triage.contract import contract

EMERGENCY_KEYS = frozenset({"emergency", "self_harm", "help", "report", "greeting", "unknown"})


def decide(state: State, read: Classification, **given) -> Decision:
    """The decision under the project's contract (its critical intents)."""
    return decide_module.decide(state, read, critical_intents=contract().critical, **given)


def reading(
    intent: str,
    priority: str = "normal",
    *,
    language: str = "en",
    doubt: bool = False,
    top: tuple = (),
    switch_to: str | None = None,
) -> Classification:
    return Classification(intent, priority, language, 0.9, "model", switch_to, doubt, top)


NEW = State(cid="sms:+1")
OPEN_HIGH = State(cid="sms:+1", exists=True, status="open", priority="high")
OPTED_OUT = State(cid="sms:+1", exists=True, opted_out=True)
HELD = State(cid="sms:+1", exists=True, status="open", priority="normal", claimed_by="ana")
BLOCKED = State(cid="sms:+1", exists=True, status="open", priority="low", blocked=True)
WAS_CRITICAL = State(cid="sms:+1", exists=True, status="closed", peak_priority="critical")
SPANISH = State(cid="sms:+1", exists=True, status="open", chosen_language="es")

CASES = [
    # state, reading, keyword, body, media -> reply key, priority, opt_out, held alert
    (NEW, reading("help"), None, "i need help", False, "help", "normal", None, False),
    (
        NEW,
        reading("emergency", "critical"),
        None,
        "he has a gun",
        False,
        "emergency",
        "critical",
        None,
        False,
    ),
    (NEW, reading("stop", "low"), "stop", "STOP", False, "stop", "low", True, False),
    (OPTED_OUT, reading("stop", "low"), "stop", "STOP", False, None, "low", True, False),
    (NEW, reading("stop", "low"), None, "make him stop", False, "stop_hint", "low", None, False),
    (OPTED_OUT, reading("greeting", "low"), None, "hi", False, None, "low", None, False),
    (OPTED_OUT, reading("help"), "help", "HELP", False, "help", "normal", None, False),
    (OPTED_OUT, reading("start", "low"), "start", "START", False, "start", "low", False, False),
    (NEW, reading("greeting", "low"), "start", "YES", False, "greeting", "low", None, False),
    (NEW, reading("info", "low"), "help", "INFO", False, "info", "low", None, False),
    (HELD, reading("greeting", "low"), None, "ok", False, None, "normal", None, False),
    (
        HELD,
        reading("emergency", "critical"),
        None,
        "he is back",
        False,
        None,
        "critical",
        None,
        True,
    ),
    (OPEN_HIGH, reading("thanks", "low"), None, "thanks", False, "thanks", "high", None, False),
    (BLOCKED, reading("unknown"), None, "spam spam", False, "unknown", "low", None, False),
    (
        BLOCKED,
        reading("emergency", "critical"),
        None,
        "help he hits me",
        False,
        "emergency",
        "critical",
        None,
        False,
    ),
    (
        WAS_CRITICAL,
        reading("greeting", "low"),
        None,
        "hi again",
        False,
        "greeting",
        "high",
        None,
        False,
    ),
    (NEW, reading("unknown"), None, "", True, "media", "high", None, False),
    (NEW, reading("help"), None, "see this", True, "help", "high", None, False),
    (
        NEW,
        reading("thanks", "high", doubt=True, top=(("emergency", 0.5),)),
        None,
        "ok he left",
        False,
        "emergency",
        "high",
        None,
        False,
    ),
    (
        NEW,
        reading("thanks", "high", doubt=True, top=(("thanks", 0.6),)),
        None,
        "ok bye",
        False,
        "help",
        "high",
        None,
        False,
    ),
    (
        NEW,
        reading("report", "high", doubt=True, top=(("report", 0.6),)),
        None,
        "report him",
        False,
        "report",
        "high",
        None,
        False,
    ),
]


@pytest.mark.parametrize(
    ("state", "read", "keyword", "body", "media", "key", "priority", "opt_out", "alert"), CASES
)
def test_decision_table(state, read, keyword, body, media, key, priority, opt_out, alert):
    decision = decide(
        state, read, keyword=keyword, body=body, has_media=media, emergency_keys=EMERGENCY_KEYS
    )
    assert (decision.reply_key, decision.priority, decision.opt_out, decision.held_alert) == (
        key,
        priority,
        opt_out,
        alert,
    )


def test_the_reply_language_follows_a_choice_then_the_conversation():
    asked = decide(NEW, reading("language", "low", switch_to="pl"), keyword=None, body="polski")
    assert (asked.reply_language, asked.chosen_language) == ("pl", "pl")
    kept = decide(SPANISH, reading("help", language="en"), keyword="help", body="HELP")
    assert (kept.reply_language, kept.chosen_language) == ("es", None)
    read = decide(NEW, reading("help", language="vi"), keyword=None, body="giúp tôi")
    assert read.reply_language == "vi"


def test_a_twilio_keyword_is_recorded_as_its_intent():
    assert decide(NEW, reading("unknown"), keyword="stop", body="STOP").intent == "stop"
    assert decide(OPTED_OUT, reading("unknown"), keyword="start", body="START").intent == "start"
