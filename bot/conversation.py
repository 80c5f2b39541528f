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
from bot.decide import decide
from bot.journal import Journal
from bot.replies import Numbers, Replies, interpreter_line, reply_text
from bot.safety import looks_dangerous, safe_reply
from bot.smstext import smart_encode
from bot.triage.classify import Classification
from bot.triage.contract import higher_priority

log = logging.getLogger(__name__)

MAX_BODY = 1600  # Twilio's own limit for one message
TWILIO_CHANNELS = frozenset({"sms", "whatsapp"})  # where Twilio's keywords (STOP, HELP) apply


@dataclass(frozen=True)
class Arrival:
    """What Redis says about an inbound message before it is read, in one round trip."""

    state: store.State
    sent: int = 0  # this conversation's messages in the flood window, this one included
    redis_ok: bool = True  # False: Redis did not answer, and the turn goes to the journal
    repeat: bool = False  # Twilio sent this MessageSid before (a retry, or its fallback URL)
    earlier_reply: str | None = None  # what the first copy got: "" silence, None not yet


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
                channel,
                address,
                cid,
                body,
                now or time.time(),
                language_hint,
                message_id,
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
        """The five steps: read the conversation, classify, decide, word the reply, store."""
        self.content.refresh()
        replies = self.content.replies  # None: never loaded, and every reply is the built-in one
        arrival = self._arrive(cid, now, message_id)
        if arrival.repeat:  # stored once, by the first copy: every copy gets the same reply
            return self._repeat(arrival, body)
        state, sent = arrival.state, arrival.sent
        reading = self._classify(body, state.language or hint)
        keyword = optout.keyword(body) if channel in TWILIO_CHANNELS else None
        decision = decide(
            state,
            reading,
            keyword=keyword,
            body=body,
            has_media=bool(media),
            emergency_keys=emergency_keys(replies) if replies else frozenset(),
            critical_intents=self.content.contract.critical,
        )
        key = decision.reply_key
        if key and not flood.may_reply(
            self.redis, cid, sent, body, now, critical=decision.critical
        ):
            key = None  # a flood: stored and flagged, answered at most once a minute
        reply, interpreter = self._word(key, decision.reply_language, state, body, channel)

        meta: dict[str, Any] = {
            "confidence": round(reading.confidence, 3),
            "matched": reading.matched,
            "top": [list(t) for t in reading.top],
        }
        meta |= (
            ({"doubt": True} if reading.doubt else {})
            | ({"flood": sent} if sent > flood.LIMIT else {})
            | ({"media": media} if media else {})
        )
        inbound = store.Entry(
            "in", "person", body, now, decision.intent, reading.priority, reading.language, meta
        )
        outbound = store.Entry("out", "bot", reply, now, decision.intent) if reply else None
        turn = {
            "id": message_id,
            "cid": cid,
            "channel": channel,
            "address": address,
            "inbound": vars(inbound),
            "reply": vars(outbound) if outbound else None,
            "language": reading.language,
            "priority": decision.priority,
            "opt_out": decision.opt_out,
            "chosen_language": decision.chosen_language,
            "held_alert": decision.held_alert,
            "interpreter_offered": bool(interpreter and reply),
        }
        stored = self.keep(turn, state if arrival.redis_ok else None)
        return Outcome(
            reply, decision.intent, decision.priority, decision.reply_language, stored, cid
        )

    def _arrive(self, cid: str, now: float, message_id: str | None) -> Arrival:
        """The conversation's state, its count in the flood window and, for a Twilio message,
        whether its MessageSid was seen before: one round trip. If Redis does not answer: a new
        conversation's state, handled as new, and the turn goes to the journal."""
        try:
            pipe = self.redis.pipeline(transaction=False)
            store.read_state(pipe, cid)
            flood.count_message(pipe, cid, now)
            if message_id:
                store.claim_message(pipe, message_id)
            replies = pipe.execute()
            state, sent = replies[:2], replies[2]
            first, earlier = store.parse_claim(replies[4:]) if message_id else (True, None)
        except Exception:
            log.exception("Redis unavailable while reading %s", cid.partition(":")[0])
            return Arrival(store.State(cid=cid), redis_ok=False)
        return Arrival(store.parse_state(cid, state), int(sent), True, not first, earlier)

    def _repeat(self, arrival: Arrival, body: str) -> Outcome:
        """A copy of a message already taken (a retry counts once more in the flood window)."""
        state = arrival.state
        reply = arrival.earlier_reply
        if reply is None:  # the first copy is still being handled: the hotline, not silence
            reply = safe_reply(body, self.numbers.emergency)
        return Outcome(
            reply or None,
            state.last_intent or "unknown",
            state.priority,
            state.language or "en",
            True,  # the first copy keeps it (or frees the MessageSid if it cannot)
            state.cid,
        )

    def _classify(self, body: str, conversation_language: str | None) -> Classification:
        classifier = self.content.classifier
        if classifier is None:
            # the encoder or the head could not load: store the message, queue it for a person,
            # and answer with the hotline (and the emergency number first if it reads as danger)
            log.error("classifier unavailable; queueing for a person: %s", self.content.errors)
            return Classification(
                "unknown",
                "high",
                conversation_language or "en",
                0.0,
                "no classifier",
                doubt=looks_dangerous(body),
            )
        return classifier.classify(body, conversation_language=conversation_language)

    def _word(
        self, key: str | None, language: str, state: store.State, body: str, channel: str
    ) -> tuple[str | None, str | None]:
        """The reply's text for `key` (None: silence) and the interpreter line it carries."""
        if key is None:
            return None, None
        replies = self.content.replies
        if self.content.classifier is None or not replies:
            return smart_encode(safe_reply(body, self.numbers.emergency)), None
        interpreter = None  # for a language without replies: once per conversation
        if language not in replies and not state.interpreter_offered:
            interpreter = interpreter_line(replies, self.content.interpreters, language)
        reply = reply_text(replies, key, language, self.numbers, interpreter)
        return (smart_encode(reply) if channel == "sms" else reply), interpreter

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
        if turn["id"] and turn["channel"] in TWILIO_CHANNELS:
            # Twilio's MessageSid: a retry of it gets this reply and is not stored again
            markers[store.message_key(turn["id"])] = (turn["reply"] or {}).get("text", "")
        if replayed:  # the conversation may have moved on meanwhile: never lower its priority
            if state.status == "open":
                priority = higher_priority(state.priority, priority)
            markers[replay_key(cid, turn["id"])] = "1"
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
        """Apply one journalled turn unless an earlier replay already did, or (for a Twilio
        message) a copy of it was stored live: a retry after Redis came back, or a store whose
        answer timed out after Redis had applied it. :raise: Redis errors"""
        pipe = self.redis.pipeline(transaction=False)
        pipe.exists(replay_key(turn["cid"], turn["id"]))
        pipe.get(store.message_key(turn["id"]))
        store.read_state(pipe, turn["cid"])
        replayed, seen, *state = pipe.execute()
        if replayed or (turn["channel"] in TWILIO_CHANNELS and store.reply_of(seen) is not None):
            return
        self.store_turn(turn, store.parse_state(turn["cid"], state), replayed=True)


def emergency_keys(replies: Replies) -> frozenset[str]:
    """The replies whose English text gives the emergency number."""
    return frozenset(key for key, text in replies["en"].items() if "{emergency}" in text)


def replay_key(cid: str, turn_id: str) -> str:
    """Set when a journalled turn reaches Redis, in the same round trip: replayed once."""
    return f"tl:replayed:{{{cid}}}:{turn_id}"
