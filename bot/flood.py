"""Flood limiting per conversation, in Redis so it holds across workers and instances.

The first `LIMIT` messages of a conversation in each `WINDOW` are always answered. Beyond that a
person writing something new keeps getting answers, up to `CEILING` messages in the window; a
repeat of a text already seen in the window (after `LIMIT`), or anything past `CEILING`, gets at
most one reply per `GAP` seconds, and the conversation is flagged `flooded`. Every message is
still stored (past `LIMIT` its transcript line carries `meta.flood`). A message that looks like
danger, and Twilio's STOP and START, are always answered.

Counting rides on the read the bot makes anyway; only a conversation past `LIMIT` costs one
more round trip per message (novelty and gate in one pipeline), and a throttled one another
(the `flooded` flag).
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from bot import optout, store
from bot.safety import looks_dangerous

log = logging.getLogger(__name__)

LIMIT = 10  # messages always answered per window
# Distinct messages answered per window: one every 10 s for 10 minutes, which nobody typing to an
# automatic reply sustains, while a script that varies its text (a counter, a timestamp) soon does.
CEILING = 60
WINDOW = 600  # seconds
GAP = 60  # seconds between replies to repeats (or past CEILING)


def counter_key(cid: str, now: float) -> str:
    """The counter of a conversation's messages in the current window."""
    return f"tl:flood:{{{cid}}}:{int(now // WINDOW)}"


def seen_key(cid: str, now: float) -> str:
    """The set of fingerprints of texts received past `LIMIT` in this window."""
    return f"tl:floodseen:{{{cid}}}:{int(now // WINDOW)}"


def gate_key(cid: str) -> str:
    """The key whose presence means a throttled conversation was answered within `GAP` seconds."""
    return f"tl:floodgate:{{{cid}}}"


def fingerprint(body: str) -> str:
    """A short hash of the text, the same whatever its case, spacing and punctuation."""
    words = re.findall(r"\w+", body.casefold())
    normal = " ".join(words) if words else " ".join(body.split())  # emoji-only: keep as is
    return hashlib.sha256(normal.encode()).hexdigest()[:16]


def count_message(pipe: Any, cid: str, now: float) -> None:
    """Queue on `pipe` the count of one more message in its window: two replies, the first the
    number of messages so far, this one included."""
    key = counter_key(cid, now)
    pipe.incr(key)
    pipe.expire(key, WINDOW * 2)


def may_reply(
    r: store.Client, cid: str, count: int, body: str, now: float, *, critical: bool
) -> bool:
    """Whether the bot answers message number `count` of this window (True unless flooding).
    A critical message, Twilio's opt-out and opt-in keywords and a danger cue are always
    answered, once the flood is recorded."""
    if count <= LIMIT:
        return True
    try:
        seen = seen_key(cid, now)
        pipe = r.pipeline(transaction=False)
        pipe.sadd(seen, fingerprint(body))
        pipe.expire(seen, WINDOW * 2)
        pipe.set(gate_key(cid), repr(now), nx=True, ex=GAP)
        new, _, opened = pipe.execute()
        if new and count <= CEILING:
            return True  # a person still writing something new
        r.hset(store.conv_key(cid), mapping={"flooded": repr(now)})
    except Exception:
        log.exception("flood gate unavailable for a conversation; answering")
        return True
    if opened:  # once per GAP, not once per message of a flood
        log.warning(
            "flood: a conversation repeats itself or passed %d messages in %d s; throttling",
            CEILING,
            WINDOW,
        )
    return (
        bool(opened)
        or critical
        or optout.keyword(body) in {"stop", "start"}
        or looks_dangerous(body)
    )
