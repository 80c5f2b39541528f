"""Conversation state in Redis: sessions, transcripts, opt-outs and the operator queue.

Every key of one conversation carries the conversation id as a hash tag (`{sms:+1555...}`), so
they live in one Redis Cluster slot; the queue is one sorted set of its own. Each function takes
the client as its first argument and does one round trip where it can.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from bot.triage.contract import PRIORITIES

if TYPE_CHECKING:
    import redis
    from redis.cluster import RedisCluster

    from bot.breaker import GuardedRedis

# The client every function here takes: the app's guarded client, or a plain one (tests, CLI).
Client: TypeAlias = "redis.Redis | RedisCluster | GuardedRedis"

PRIORITY_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}  # 0: most urgent
QUEUE = "tl:queue"
# Bumped on every change the console shows: consoles poll it and redraw when it moves.
VERSION = "tl:version"
RANK_SPAN = 10**13  # larger than any millisecond timestamp


def conv_key(cid: str) -> str:
    """The Redis hash of a conversation's session fields."""
    return f"tl:conv:{{{cid}}}"


def log_key(cid: str) -> str:
    """The Redis list of a conversation's transcript (JSON entries, oldest first)."""
    return f"tl:log:{{{cid}}}"


def optout_key(cid: str) -> str:
    """The key whose presence means the number opted out (STOP)."""
    return f"tl:optout:{{{cid}}}"


MESSAGE_SEEN_SECONDS = 2 * 86400  # Twilio retries within minutes; two days is ample
PENDING = "\x00pending"


def message_key(sid: str) -> str:
    """The key remembering a Twilio `MessageSid` and the reply it got."""
    return f"tl:msgsid:{sid}"


def claim_message(pipe: Any, sid: str) -> None:
    """Queue on `pipe` the claim of Twilio's `MessageSid` (set if new, for a minute) and a read
    of it: two replies, read by `parse_claim`."""
    pipe.set(message_key(sid), PENDING, nx=True, ex=60)
    pipe.get(message_key(sid))


def parse_claim(replies: list[Any]) -> tuple[bool, str | None]:
    """(True, None) the first time a `MessageSid` is seen; after that (False, the reply it got:
    "" for none, None while the first copy is still being handled)."""
    first, seen = replies
    return (True, None) if first else (False, reply_of(seen))


def reply_of(seen: Any) -> str | None:
    """The reply a `MessageSid` got, from its key's value: None while absent or pending."""
    text = seen.decode() if isinstance(seen, bytes) else seen
    return None if text in (None, PENDING) else text


def queue_score(priority: str, waiting_since: float) -> int:
    """Lower is more urgent: priority first, then the longest wait."""
    return PRIORITY_RANK.get(priority, 2) * RANK_SPAN + int(waiting_since * 1000)


@dataclass
class State:
    """What the bot needs to know about a conversation before it answers."""

    cid: str
    exists: bool = False
    channel: str = ""
    language: str | None = None
    chosen_language: str | None = None  # set when the person asked for a language
    last_intent: str | None = None
    priority: str = "low"
    status: str = "closed"  # open | closed
    claimed_by: str | None = None
    blocked: bool = False
    opted_out: bool = False
    count: int = 0
    waiting_since: float | None = None
    last_in_ts: float | None = None
    interpreter_offered: bool = False  # the interpreter line was sent in this conversation
    peak_priority: str | None = None  # highest priority of its closed episodes (bot/history.py)
    critical_since: float | None = None  # when this episode became critical


@dataclass
class Entry:
    """One line of a transcript."""

    direction: str  # "in" (from the person) or "out" (to the person)
    sender: str  # "person", "bot" or "operator:NAME"
    text: str
    ts: float = field(default_factory=time.time)
    intent: str | None = None
    priority: str | None = None
    language: str | None = None
    meta: dict[str, Any] | None = None

    def to_json(self) -> str:
        """The line as kept in the transcript list, without its empty fields."""
        # vars(), not asdict(): same JSON without asdict's deep copy (a tenth of the webhook's CPU)
        return json.dumps({k: v for k, v in vars(self).items() if v is not None})

    @classmethod
    def from_json(cls, raw: str | bytes) -> Entry:
        """A line from the transcript list, ignoring fields this version does not know."""
        data = json.loads(raw)
        return cls(**{k: data[k] for k in data if k in cls.__dataclass_fields__})


def text_of(value: Any) -> str | None:
    """A Redis reply as text (bytes decoded); None stays None."""
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def state_from_hash(cid: str, raw: dict, opted_out: bool = False) -> State:
    """The State of `cid` from its raw session hash (empty means a new conversation)."""
    h = {text_of(k): text_of(v) for k, v in raw.items()}
    return State(
        cid=cid,
        exists=bool(h),
        channel=h.get("channel") or "",
        language=h.get("language") or None,
        chosen_language=h.get("chosen_language") or None,
        last_intent=h.get("last_intent") or None,
        priority=h.get("priority") or "low",
        status=h.get("status") or "closed",
        claimed_by=h.get("claimed_by") or None,
        blocked=h.get("blocked") == "1",
        opted_out=opted_out,
        count=int(h.get("count") or 0),
        waiting_since=float(h["waiting_since"]) if h.get("waiting_since") else None,
        last_in_ts=float(h["last_in_ts"]) if h.get("last_in_ts") else None,
        interpreter_offered=h.get("interpreter_offered") == "1",
        peak_priority=h.get("peak_priority") or None,
        critical_since=float(h["critical_since"]) if h.get("critical_since") else None,
    )


def read_state(pipe: Any, cid: str) -> None:
    """Queue the reads of a conversation's session and opt-out on `pipe` (two replies)."""
    pipe.hgetall(conv_key(cid))
    pipe.exists(optout_key(cid))


def parse_state(cid: str, replies: list[Any]) -> State:
    """The State from the two replies of `read_state`."""
    raw, opted_out = replies
    return state_from_hash(cid, raw or {}, bool(opted_out))


def load_state(r: Client, cid: str) -> State:
    """The conversation's session and opt-out, in one round trip."""
    pipe = r.pipeline(transaction=False)
    read_state(pipe, cid)
    return parse_state(cid, pipe.execute())


def record_turn(
    r: Client,
    state: State,
    *,
    channel: str,
    address: str,
    inbound: Entry,
    reply: Entry | None,
    language: str,
    priority: str,
    retention_seconds: int,
    opt_out: bool | None = None,
    chosen_language: str | None = None,
    markers: dict[str, str] | None = None,
    interpreter_offered: bool = False,
) -> None:
    """Store one inbound message and the bot's reply, update the session and the queue.

    One pipelined round trip. `priority` is the conversation's new priority (never lower than
    before while it is open); `opt_out` True/False sets or clears the opt-out; `markers` are
    keys set in the same round trip (a replayed turn's id, kept two days).
    """
    cid = state.cid
    now = inbound.ts
    reopened = state.status != "open"
    waiting_since = now if reopened or state.waiting_since is None else state.waiting_since
    fields = {
        "channel": channel,
        "address": address,
        "language": language,
        "last_intent": inbound.intent or "",
        "priority": priority,
        "status": "open",
        "waiting_since": repr(waiting_since),
        "last_in_ts": repr(now),
        "last_text": inbound.text[:500],
        "count": state.count + 1,
    }
    if reopened or PRIORITY_RANK.get(priority, 2) < PRIORITY_RANK.get(state.priority, 2):
        fields["priority_reason"] = priority_reason(inbound, priority)
    if chosen_language:
        fields["chosen_language"] = chosen_language
    if interpreter_offered:
        fields["interpreter_offered"] = "1"
    if not state.exists:
        fields["created"] = repr(now)
    pipe = r.pipeline(transaction=False)
    pipe.hset(conv_key(cid), mapping=fields)
    pipe.expire(conv_key(cid), retention_seconds)
    pipe.rpush(log_key(cid), *[e.to_json() for e in (inbound, reply) if e is not None])
    pipe.expire(log_key(cid), retention_seconds)
    if opt_out is True:
        pipe.set(optout_key(cid), repr(now))
    elif opt_out is False:
        pipe.delete(optout_key(cid))
    if reopened:
        pipe.zadd(QUEUE, {cid: queue_score(priority, waiting_since)})
    else:
        # LT: a raised priority moves the conversation up; nothing ever moves it down.
        pipe.zadd(QUEUE, {cid: queue_score(priority, waiting_since)}, lt=True)
    for key, value in (markers or {}).items():
        pipe.set(key, value, ex=MESSAGE_SEEN_SECONDS)
    from bot import history  # search index, critical episodes, shift counters

    history.on_turn(
        pipe,
        state,
        channel=channel,
        language=language,
        inbound=inbound,
        priority=priority,
        reopened=reopened,
    )
    pipe.incr(VERSION)
    pipe.execute()


def priority_reason(inbound: Entry, priority: str) -> str:
    """Why a turn gave the conversation its priority (JSON, the hash field `priority_reason`):
    the message, its intent, how the classifier read it and its confidence."""
    meta = inbound.meta or {}
    return json.dumps(
        {
            "priority": priority,
            "text": inbound.text[:160],
            "intent": inbound.intent or "",
            "confidence": meta.get("confidence"),
            "matched": meta.get("matched") or "",
            "media": bool(meta.get("media")),
            "doubt": bool(meta.get("doubt")),  # close to critical: the priority was raised
            "top": (meta.get("top") or [None])[0],  # the likeliest reading, [intent, probability]
            "ts": inbound.ts,
        },
        ensure_ascii=False,
    )


def append_entry(r: Client, cid: str, entry: Entry, retention_seconds: int) -> None:
    """Add an outbound (operator) or system line to a transcript."""
    pipe = r.pipeline(transaction=False)
    pipe.rpush(log_key(cid), entry.to_json())
    pipe.expire(log_key(cid), retention_seconds)
    pipe.incr(VERSION)
    pipe.execute()


def transcript(r: Client, cid: str) -> list[Entry]:
    """Every line of the conversation's transcript, oldest first."""
    return [Entry.from_json(raw) for raw in r.lrange(log_key(cid), 0, -1)]


def conversation(r: Client, cid: str) -> dict[str, str]:
    """The raw session hash of a conversation (empty if unknown)."""
    return {text_of(k): text_of(v) for k, v in r.hgetall(conv_key(cid)).items()}


def queue(r: Client, limit: int = 200) -> list[dict[str, str]]:
    """Open conversations, most urgent first, each with its session fields."""
    return queued_rows(r, [text_of(c) for c in r.zrange(QUEUE, 0, limit - 1)])


URGENT = ("critical", "high")  # never left off the first page of the console's queue


def priority_band(priority: str) -> tuple[int, int]:
    """The lowest and highest queue score of one priority."""
    rank = PRIORITY_RANK[priority]
    return rank * RANK_SPAN, (rank + 1) * RANK_SPAN - 1


def queue_counts(r: Client) -> dict[str, int]:
    """How many conversations the queue holds at each priority (their sum is its ZCARD)."""
    pipe = r.pipeline(transaction=False)
    for priority in PRIORITY_RANK:
        pipe.zcount(QUEUE, *priority_band(priority))
    return dict(zip(PRIORITY_RANK, pipe.execute(), strict=True))


def queue_page(r: Client, page: int, per_page: int, urgent: int) -> list[dict[str, str]]:
    """One page of the queue, most urgent first. Page 1 holds every critical and high
    conversation, however many (read by score, so one that arrived a moment ago is there too),
    then the most urgent others up to `per_page`; each later page holds `per_page` others.
    `urgent` is how many critical and high ones there are (from `queue_counts`)."""
    others_from = priority_band("normal")[0]
    if page <= 1:
        cids = list(r.zrange(QUEUE, 0, others_from - 1, byscore=True))
        start, count = 0, per_page - len(cids)
    else:
        cids = []
        start, count = max(0, per_page - urgent) + (page - 2) * per_page, per_page
    if count > 0:
        cids += r.zrange(QUEUE, others_from, "+inf", byscore=True, offset=start, num=count)
    return queued_rows(r, [text_of(c) for c in cids])


def queued_rows(r: Client, cids: list[str]) -> list[dict[str, str]]:
    """The session fields of each queued conversation, in order; drops (and unqueues) the ones
    that expired or were erased."""
    if not cids:
        return []
    pipe = r.pipeline(transaction=False)
    for cid in cids:
        pipe.hgetall(conv_key(cid))
    rows = []
    for cid, raw in zip(cids, pipe.execute(), strict=True):
        row = {text_of(k): text_of(v) for k, v in raw.items()}
        if not row:  # expired or erased: keep the queue clean
            r.zrem(QUEUE, cid)
            continue
        row["cid"] = cid
        rows.append(row)
    return rows


def claim(r: Client, cid: str, operator: str) -> bool:
    """Atomically give the conversation to `operator`; False if someone else holds it."""
    if r.hsetnx(conv_key(cid), "claimed_by", operator):
        touch(r, cid)
        return True
    return text_of(r.hget(conv_key(cid), "claimed_by")) == operator


def release(r: Client, cid: str) -> None:
    """Hand the conversation back to the bot."""
    r.hdel(conv_key(cid), "claimed_by")
    touch(r, cid)


HELD_ALERTS = "tl:heldalerts"  # conversation -> when the bot answers an unanswered alert
HELD_ALERT_SECONDS = 60


def raise_alert(r: Client, cid: str, intent: str, ts: float) -> None:
    """A critical message came into a conversation an operator holds: flag it in the console
    at once, and let the bot answer it in `HELD_ALERT_SECONDS` unless the operator does."""
    pipe = r.pipeline(transaction=False)
    pipe.hset(conv_key(cid), mapping={"alert": repr(ts), "alert_intent": intent})
    pipe.zadd(HELD_ALERTS, {cid: ts + HELD_ALERT_SECONDS})
    pipe.incr(VERSION)
    pipe.execute()


def due_alerts(r: Client, now: float) -> list[str]:
    """Conversations whose alert is due, each taken by exactly one caller (ZREM decides)."""
    due = [text_of(c) for c in r.zrangebyscore(HELD_ALERTS, 0, now)]
    return [cid for cid in due if r.zrem(HELD_ALERTS, cid)]


def clear_alert(r: Client, cid: str) -> None:
    """The operator answered: drop the conversation's alert, so the bot does not step in."""
    pipe = r.pipeline(transaction=False)
    pipe.hdel(conv_key(cid), "alert", "alert_intent")
    pipe.zrem(HELD_ALERTS, cid)
    pipe.incr(VERSION)
    pipe.execute()


def close(r: Client, cid: str, ended_by: str = "operator") -> None:
    """Close the conversation: out of the queue until the person writes again. The episode that
    ends is kept on it (bot/history.py); `ended_by` is "person" for the web chat's quick exit."""
    from bot import history  # it builds on this module's key names

    history.close(r, cid, ended_by)
    pipe = r.pipeline(transaction=False)
    pipe.hset(conv_key(cid), mapping={"status": "closed"})
    pipe.hdel(conv_key(cid), "claimed_by", "waiting_since")
    pipe.zrem(QUEUE, cid)
    pipe.execute()
    touch(r, cid)


def erase(r: Client, cid: str) -> None:
    """Delete everything kept about a conversation (a person's request), except its opt-out:
    every key carrying its hash tag, its place in the queue and other indexes, console
    references; then the append-only file is rewritten (bot/retention.py)."""
    from bot import retention  # it builds on this module's key names

    retention.erase(r, cid)
    touch(r, cid)


def touch(r: Client, cid: str) -> None:
    """Tell polling consoles that something changed (bumps `VERSION`)."""
    r.incr(VERSION)


def set_blocked(r: Client, cid: str, blocked: bool) -> None:
    """Flag (or unflag) a number that abuses the line; a blocked open conversation drops to low.

    Its messages are still stored; conversation.py keeps its priority at low while flagged.
    """
    if not r.exists(conv_key(cid)):
        return  # erased or expired: do not recreate a hash without its TTL
    if blocked:
        pipe = r.pipeline(transaction=False)
        pipe.hset(conv_key(cid), mapping={"blocked": "1", "priority": "low"})
        pipe.hget(conv_key(cid), "waiting_since")
        pipe.zscore(QUEUE, cid)
        _, since, queued = pipe.execute()
        if queued is not None and since:
            r.zadd(QUEUE, {cid: queue_score("low", float(since))})
    else:
        r.hdel(conv_key(cid), "blocked")
    touch(r, cid)


def version(r: Client) -> int:
    """The change counter the console polls: cheap to compare."""
    return int(r.get(VERSION) or 0)
