"""The one path every inbound message takes: normalise, classify, decide the reply, store.

SMS and the web chat both call `TriageLine.receive`. Whatever fails here (Redis, a data file,
the classifier), the person still gets a reply with the hotline number.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from bot import flood, optout, store
from bot.content import Content
from bot.journal import Journal
from bot.replies import Numbers, interpreter_line, reply_text
from bot.safety import looks_dangerous, safe_reply
from bot.smstext import smart_encode
from bot.triage.classify import Classification
from bot.triage.contract import contract

log = logging.getLogger(__name__)

MAX_BODY = 1600  # Twilio's own limit for one message
CRITICAL = contract().critical
TWILIO_CHANNELS = frozenset({"sms", "whatsapp"})  # where Twilio's keywords (STOP, HELP) apply


@dataclass
class Outcome:
    """What happened to one inbound message: the reply to send (None for silence) and why."""

    reply: str | None
    intent: str
    priority: str
    language: str
    stored: bool
    conversation: str


class TriageLine:
    """Binds the Redis client, the content and the configured numbers for `receive`."""

    def __init__(
        self,
        redis: Any,
        content: Content,
        numbers: Numbers,
        retention_seconds: int,
        journal: Journal | None = None,
    ) -> None:
        self.redis = redis
        self.content = content
        self.numbers = numbers
        self.retention_seconds = retention_seconds
        self.journal = journal

    def receive(
        self,
        channel: str,
        address: str,
        text: str,
        now: float | None = None,
        language_hint: str | None = None,
        message_id: str | None = None,
        media: list[dict[str, str]] | None = None,
    ) -> Outcome:
        """Answer one message from `address` on `channel` ("sms", "whatsapp" or "web").

        `language_hint` (the browser's language) stands in for a new conversation's language;
        `message_id` (Twilio's MessageSid) lets a journalled turn be replayed once however often
        Twilio retried it; `media` lists photos and voice notes (type and URL).
        """
        body = (text or "")[:MAX_BODY]
        cid = f"{channel}:{address}"
        try:
            return self._receive(
                channel, address, cid, body, now or time.time(), language_hint, message_id,
                media or [],
            )
        except Exception:
            log.exception("inbound message failed; sending the built-in reply")
            return Outcome(
                reply=safe_reply(body, self.numbers.emergency),
                intent="unknown",
                priority="high",
                language="en",
                stored=False,
                conversation=cid,
            )

    def _receive(
        self,
        channel: str,
        address: str,
        cid: str,
        body: str,
        now: float,
        hint: str | None,
        message_id: str | None,
        media: list[dict[str, str]],
    ) -> Outcome:
        self.content.refresh()
        sent = 0  # this conversation's messages in the flood window
        try:
            state, sent = flood.load_state(self.redis, cid, now)
            storage_ok = True
        except Exception:
            log.exception("Redis unavailable while reading %s", channel)
            state, storage_ok = store.State(cid=cid), False

        classifier, replies = self.content.classifier, self.content.replies
        if replies is None:
            raise RuntimeError("no usable reply texts: " + "; ".join(self.content.errors))
        if classifier is None:
            # the encoder or the head could not load: store the message, queue it for a person,
            # and answer with the hotline (and the emergency number first if it reads as danger)
            log.error("classifier unavailable; queueing for a person: %s", self.content.errors)
            result = Classification("unknown", "high", state.language or hint or "en", 0.0,
                                    "no classifier", doubt=looks_dangerous(body))
        else:
            result = classifier.classify(body, conversation_language=state.language or hint)
        intent, language = result.intent, result.language
        keyword = optout.keyword(body) if channel in TWILIO_CHANNELS else None

        chosen = None
        if intent == "language" and result.switch_to:
            chosen = result.switch_to
        reply_language = chosen or state.chosen_language or language

        opt_out: bool | None = None
        # a photo or voice note without text: people who cannot type send them
        key: str | None = "media" if media and not body.strip() else intent
        if keyword == "stop":
            intent, opt_out = "stop", True
            key = None if state.opted_out else "stop"  # one confirmation only
        elif keyword == "start" and (state.opted_out or body.strip().upper() != "YES"):
            intent, opt_out, key = "start", False, "start"
        elif keyword == "help":  # HELP and INFO answer even after an opt-out, as Twilio's do
            key = intent if intent in CRITICAL or intent == "info" else "help"
        elif state.opted_out:
            key = None  # Twilio would refuse to deliver anything else (error 21610)
        elif intent == "stop":
            key = "stop_hint"  # only the keyword alone opts out ("make him stop" is not one)
        elif state.claimed_by:
            key = None  # an operator holds this conversation: the bot stays silent
        if key and not flood.may_reply(self.redis, cid, sent, body, intent, now):
            key = None  # a flood: stored and flagged, answered at most once a minute

        if key and result.doubt:
            # close to critical: the emergency (or crisis) reply when that is the likeliest
            # reading, else a reply that gives the emergency number
            likeliest = result.top[0][0] if result.top else ""
            if likeliest in CRITICAL:
                key = likeliest
            elif "{emergency}" not in replies["en"].get(key, ""):
                key = "help"
        interpreter = None  # for a language without replies: once per conversation
        if key and reply_language not in replies and not state.interpreter_offered:
            interpreter = interpreter_line(replies, self.content.interpreters, reply_language)
        if key and classifier is None:
            reply = safe_reply(body, self.numbers.emergency)
        else:
            reply = reply_text(replies, key, reply_language, self.numbers, interpreter) \
                if key else None
        if reply and channel == "sms":
            reply = smart_encode(reply)

        priority = result.priority
        if state.status == "open":
            priority = store.higher_priority(state.priority, priority)
        elif state.peak_priority in store.URGENT:
            # a number whose earlier episode was critical or high: "hi again" is not a fresh low
            priority = store.higher_priority(priority, "high")
        if media:
            priority = store.higher_priority(priority, "high")  # a person must look or listen
        if state.blocked and intent not in CRITICAL:
            priority = "low"  # a critical message is critical whoever sends it

        inbound = store.Entry(
            "in",
            "person",
            body,
            now,
            intent,
            result.priority,
            language,
            {"confidence": round(result.confidence, 3), "matched": result.matched,
             "top": [list(t) for t in result.top]}
            | ({"doubt": True} if result.doubt else {})
            | ({"flood": sent} if sent > flood.LIMIT else {})
            | ({"media": media} if media else {}),
        )
        outbound = store.Entry("out", "bot", reply, now, intent) if reply else None
        turn = {
            "id": message_id,
            "cid": cid,
            "channel": channel,
            "address": address,
            "inbound": vars(inbound),
            "reply": vars(outbound) if outbound else None,
            "language": language,
            "priority": priority,
            "opt_out": opt_out,
            "chosen_language": chosen,
            "held_alert": bool(state.claimed_by and intent in CRITICAL),
            "interpreter_offered": bool(interpreter and reply),
        }
        stored = self.keep(turn, state if storage_ok else None)
        return Outcome(reply, intent, priority, reply_language, stored, cid)

    def keep(self, turn: dict[str, Any], state: store.State | None) -> bool:
        """Store a turn in Redis, or in the local journal when Redis cannot take it (or turns
        already wait there: a new one must not overtake them). False only if both failed."""
        waiting = self.journal is not None and self.journal.pending()
        if state is not None and not waiting:
            try:
                self.store_turn(turn, state)
                return True
            except Exception:
                log.exception("Redis unavailable while storing %s", turn["cid"])
        if self.journal is None:
            return False
        try:
            self.journal.append(turn)
            return True
        except Exception:
            log.exception("could not keep a turn in the journal either; it is lost")
            return False

    def store_turn(self, turn: dict[str, Any], state: store.State, replayed: bool = False) -> None:
        """Write one turn (from `keep`, or replayed from the journal) into Redis."""
        cid, priority = turn["cid"], turn["priority"]
        markers = {}
        if replayed:  # the conversation may have moved on meanwhile: never lower its priority
            if state.status == "open":
                priority = store.higher_priority(state.priority, priority)
            markers[replay_key(cid, turn["id"])] = "1"
            if turn["id"] and turn["channel"] == "sms":  # a later Twilio retry gets this reply
                markers[store.message_key(turn["id"])] = (turn["reply"] or {}).get("text", "")
        reply = turn["reply"]
        store.record_turn(
            self.redis,
            state,
            channel=turn["channel"],
            address=turn["address"],
            inbound=store.Entry(**turn["inbound"]),
            reply=store.Entry(**reply) if reply else None,
            language=turn["language"],
            priority=priority,
            retention_seconds=self.retention_seconds,
            opt_out=turn["opt_out"],
            chosen_language=turn["chosen_language"],
            markers=markers,
            interpreter_offered=bool(turn.get("interpreter_offered")),
        )
        if turn.get("held_alert"):
            store.raise_alert(self.redis, cid, turn["inbound"]["intent"], turn["inbound"]["ts"])

    def replay(self, turn: dict[str, Any]) -> None:
        """Apply one journalled turn unless an earlier replay already did. :raise: Redis errors"""
        if self.redis.exists(replay_key(turn["cid"], turn["id"])):
            return
        self.store_turn(turn, store.load_state(self.redis, turn["cid"]), replayed=True)


def replay_key(cid: str, turn_id: str) -> str:
    """Set when a journalled turn reaches Redis, in the same round trip: replayed once."""
    return f"tl:replayed:{{{cid}}}:{turn_id}"
