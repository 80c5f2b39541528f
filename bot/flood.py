"""Flood limiting per conversation, in Redis so it holds across workers and instances.

The first `LIMIT` messages of a conversation in each `WINDOW` are always answered. Beyond that the
bot replies at most once per `GAP` seconds; every message is still stored (its transcript line
carries `meta.flood`) and the conversation is flagged `flooded`. A message that looks like danger
is always answered. Counting rides on the read the bot makes anyway: no extra round trip.
"""

from __future__ import annotations

import logging
from typing import Any

from bot import optout, store
from bot.safety import looks_dangerous

log = logging.getLogger(__name__)

LIMIT = 10  # messages always answered per window
WINDOW = 600  # seconds
GAP = 60  # seconds between replies once over the limit
ALWAYS = frozenset({"emergency", "self_harm"})  # and Twilio's opt-out and opt-in keywords


def counter_key(cid: str, now: float) -> str:
    return f"tl:flood:{{{cid}}}:{int(now // WINDOW)}"


def gate_key(cid: str) -> str:
    return f"tl:floodgate:{{{cid}}}"


def load_state(r: Any, cid: str, now: float) -> tuple[store.State, int]:
    """`store.load_state` plus this window's message count (this one included), one round trip."""
    key = counter_key(cid, now)
    pipe = r.pipeline(transaction=False)
    store.read_state(pipe, cid)
    pipe.incr(key)
    pipe.expire(key, WINDOW * 2)
    *state, count, _ = pipe.execute()
    return store.parse_state(cid, state), int(count)


def may_reply(r: Any, cid: str, count: int, body: str, intent: str, now: float) -> bool:
    """Whether the bot answers message number `count` of this window (True unless flooding)."""
    if count <= LIMIT:
        return True
    try:
        pipe = r.pipeline(transaction=False)
        pipe.set(gate_key(cid), repr(now), nx=True, ex=GAP)
        pipe.hset(store.conv_key(cid), mapping={"flooded": repr(now)})
        opened, _ = pipe.execute()
    except Exception:
        log.exception("flood gate unavailable for a conversation; answering")
        return True
    if count == LIMIT + 1:
        log.warning("flood: conversation over %d messages in %d s; throttling", LIMIT, WINDOW)
    return (bool(opened) or intent in ALWAYS or optout.keyword(body) in {"stop", "start"}
            or looks_dangerous(body))
