"""What the bot does with one message: a pure function of the conversation and the reading.

No Redis, no Flask, no clock: `decide` takes the conversation's state, the classifier's reading
and the Twilio keyword (if the message is one) and returns the reply to send, in which language,
the opt-out change and the conversation's new priority. tests/test_decide.py states the rules as
a table.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store import URGENT, State
from bot.triage.classify import Classification
from bot.triage.contract import higher_priority


@dataclass(frozen=True)
class Decision:
    """What to do with one message: the reply, its language, the opt-out change, the priority."""

    intent: str  # the reading's intent, or "stop"/"start" when the message is that keyword
    reply_key: str | None  # which reply to send; None: stay silent
    reply_language: str
    chosen_language: str | None  # set when the person asked for a language by name
    opt_out: bool | None  # True: opt out, False: opt back in, None: unchanged
    priority: str  # the conversation's priority after this message
    critical: bool  # the intent is critical: always answered, even in a flood
    held_alert: bool  # a critical message while an operator holds the conversation


def decide(
    state: State,
    reading: Classification,
    *,
    keyword: str | None,
    body: str,
    has_media: bool = False,
    emergency_keys: frozenset[str] = frozenset(),
    critical_intents: frozenset[str],
) -> Decision:
    """The bot's decision for one message. `keyword` is Twilio's reading of the body ("stop",
    "start", "help" or None); `emergency_keys` are the replies that give the emergency number;
    `critical_intents` the contract's."""
    intent = reading.intent
    chosen = reading.switch_to if intent == "language" and reading.switch_to else None
    opt_out: bool | None = None
    # a photo or voice note without text: people who cannot type send them
    key: str | None = "media" if has_media and not body.strip() else intent
    if keyword == "stop":
        intent, opt_out = "stop", True
        key = None if state.opted_out else "stop"  # one confirmation only
    elif keyword == "start" and (state.opted_out or body.strip().upper() != "YES"):
        intent, opt_out, key = "start", False, "start"
    elif keyword == "help":  # HELP and INFO answer even after an opt-out, as Twilio's do
        key = intent if intent in critical_intents or intent == "info" else "help"
    elif state.opted_out:
        key = None  # Twilio would refuse to deliver anything else (error 21610)
    elif intent == "stop":
        key = "stop_hint"  # only the keyword alone opts out ("make him stop" is not one)
    elif state.claimed_by:
        key = None  # an operator holds this conversation: the bot stays silent
    if key and reading.doubt:
        # close to critical: the emergency (or crisis) reply when that is the likeliest
        # reading, else a reply that gives the emergency number
        likeliest = reading.top[0][0] if reading.top else ""
        if likeliest in critical_intents:
            key = likeliest
        elif key not in emergency_keys:
            key = "help"
    critical = intent in critical_intents  # after a keyword: "stop" or "start" never are
    return Decision(
        intent=intent,
        reply_key=key,
        reply_language=chosen or state.chosen_language or reading.language,
        chosen_language=chosen,
        opt_out=opt_out,
        priority=new_priority(state, reading.priority, has_media, critical=critical),
        critical=critical,
        held_alert=bool(state.claimed_by and critical),
    )


def new_priority(state: State, priority: str, has_media: bool, *, critical: bool) -> str:
    """The conversation's priority: raised from context, never lowered while it is open."""
    if state.status == "open":
        priority = higher_priority(state.priority, priority)
    elif state.peak_priority in URGENT:
        # a number whose earlier episode was critical or high: "hi again" is not a fresh low
        priority = higher_priority(priority, "high")
    if has_media:
        priority = higher_priority(priority, "high")  # a person must look or listen
    if state.blocked and not critical:
        priority = "low"  # a critical message is critical whoever sends it
    return priority
