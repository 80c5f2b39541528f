"""The team in Redis: who is online, who holds what, transfers, and the transcript's system lines.

- **Online**: the sorted set `tl:console:online`, operator name -> when their console last asked
  the server anything (every poll does, every few seconds). An operator is online while that is
  less than `online_window` seconds ago; entries older than a day are dropped on each write.
- **Holdings**: counted from the queue (every open conversation is in `tl:queue`) and each
  conversation's `claimed_by`, one pipelined round trip; kept in this process for as long as
  `tl:version` does not move, so idle consoles polling cost one GET.
- **Transfer**: one Lua script on the conversation hash: it changes `claimed_by` only if the
  conversation is still open and still held by the holder the operator saw.
- **System lines** (`tl:syslog:{cid}`): what happened to a conversation in the console ("ana
  transferred it to bob"), shown in the console's transcript between the messages, never to the
  person (the web chat reads only `tl:log:{cid}`). The key carries the conversation's hash tag,
  so erase deletes it, and each write makes it expire exactly when the conversation hash does.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

from bot import store

ONLINE = "tl:console:online"
KEEP_SEEN = 86400  # "last seen" is remembered this long
MAX_SYSTEM_LINES = 200


def syslog_key(cid: str) -> str:
    """The Redis list of a conversation's system lines (carrying its hash tag)."""
    return f"tl:syslog:{{{cid}}}"


def online_window(poll_seconds: float) -> float:
    """Seconds since the last poll within which an operator counts as online: about 30 s, and
    always a few polls' worth."""
    return max(30.0, 3.0 * float(poll_seconds))


def seen(r: store.Client, name: str, now: float | None = None) -> None:
    """Record that `name`'s console just asked the server something."""
    now = time.time() if now is None else now
    pipe = r.pipeline(transaction=False)
    pipe.zadd(ONLINE, {name: now})
    pipe.zremrangebyscore(ONLINE, 0, now - KEEP_SEEN)
    pipe.execute()


def gone(r: store.Client, name: str) -> None:
    """`name` logged out: not online any more."""
    r.zrem(ONLINE, name)


def last_seen(r: store.Client) -> dict[str, float]:
    """Operator name -> when their console last asked anything (within the last day)."""
    return {store.text_of(name): float(ts) for name, ts in r.zrange(ONLINE, 0, -1, withscores=True)}


_held_cache: weakref.WeakKeyDictionary[Any, tuple[int, dict[str, list[str]]]] = (
    weakref.WeakKeyDictionary()
)
_held_lock = threading.Lock()


def holdings(r: store.Client) -> dict[str, list[str]]:
    """Operator name -> the open conversations (ids) they hold, most urgent first."""
    version = store.version(r)
    with _held_lock:
        cached = _held_cache.get(r)
    if cached and cached[0] == version:
        return cached[1]
    cids = [store.text_of(c) for c in r.zrange(store.QUEUE, 0, -1)]
    pipe = r.pipeline(transaction=False)
    for cid in cids:
        pipe.hget(store.conv_key(cid), "claimed_by")
    held: dict[str, list[str]] = {}
    for cid, holder in zip(cids, pipe.execute() if cids else [], strict=True):
        if holder:
            held.setdefault(store.text_of(holder), []).append(cid)
    with _held_lock:
        _held_cache[r] = (version, held)
    return held


# KEYS[1]: the conversation hash. ARGV: the holder the operator saw ('' for nobody), the new one.
_TRANSFER = """
if redis.call('HGET', KEYS[1], 'status') ~= 'open' then return 'closed' end
local holder = redis.call('HGET', KEYS[1], 'claimed_by') or ''
if holder ~= ARGV[1] then return 'moved' end
redis.call('HSET', KEYS[1], 'claimed_by', ARGV[2])
return 'ok'
"""


def transfer(r: store.Client, cid: str, expected: str, target: str) -> str:
    """Give the conversation to `target` if it is open and `expected` still holds it ('' for
    nobody): 'ok'; else 'closed' or 'moved' (someone else holds it now) and nothing changes."""
    result = r.execute_command("EVAL", _TRANSFER, 1, store.conv_key(cid), expected, target)
    result = store.text_of(result)
    if result == "ok":
        r.incr(store.VERSION)
    return result


def add_system_line(r: store.Client, cid: str, text: str, now: float | None = None) -> None:
    """A line in the console's transcript (never shown to the person)."""
    entry = store.Entry("system", "system", text, time.time() if now is None else now)
    key = syslog_key(cid)
    pipe = r.pipeline(transaction=False)
    pipe.rpush(key, entry.to_json())
    pipe.ltrim(key, -MAX_SYSTEM_LINES, -1)
    pipe.pttl(store.conv_key(cid))
    pipe.incr(store.VERSION)
    ttl = pipe.execute()[2]
    if ttl and ttl > 0:
        r.pexpire(key, ttl)  # gone with the conversation
    elif ttl == -2:
        r.delete(key)  # the conversation went meanwhile (erased): keep nothing of it


def system_lines(r: store.Client, cid: str) -> list[store.Entry]:
    """The conversation's system lines, oldest first."""
    return [store.Entry.from_json(raw) for raw in r.lrange(syslog_key(cid), 0, -1)]


def merged(transcript: list[store.Entry], system: list[store.Entry]) -> list[store.Entry]:
    """The transcript with the system lines in time order (a message and a system line at the
    same moment: the message first)."""
    if not system:
        return transcript
    order = [(e.ts, 0, i, e) for i, e in enumerate(transcript)]
    order += [(e.ts, 1, i, e) for i, e in enumerate(system)]
    return [e for *_, e in sorted(order, key=lambda t: t[:3])]
