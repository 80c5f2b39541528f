"""Erasure and retention: nothing of a conversation outlives it, except its opt-out.

Every key of one conversation carries its id as a hash tag (`tl:log:{sms:+1555...}`), so a SCAN
for the tag finds them all (on every primary of a cluster). Shared indexes (the queue, held
alerts, bot/history.py's `tl:convs`, `tl:critical`, `tl:closed`) and console references
(`tl:ref:*`) name the conversation too: any sorted set, set or list `tl:*` without a hash tag
is cleaned of it, so a new index of conversation ids needs nothing more here.

- `erase` deletes every key of a conversation except its opt-out, takes it out of every shared
  index and reference, then asks Redis to rewrite its append-only file.
- `sweep` removes what expired conversations left behind (queue members, references, keys
  written after the last message) and makes every key of a live conversation expire with it.
  It runs from each app at most once per `SWEEP_MINUTES` (one worker of all takes a Redis lock),
  and from `python -m bot sweep`.

Twilio's `tl:msgsid:<MessageSid>` records carry no conversation id: they hold the bot's reply
(never the number or the person's text) for two days, and are left to expire.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from redis.exceptions import ResponseError

from bot import store

log = logging.getLogger(__name__)

OPT_OUT_PREFIX = store.optout_key("")[: -len("{}")]  # "tl:optout:"
REF_PATTERN = "tl:ref:*"  # bot/console/privacy.py: console reference -> conversation id
SWEEP_LOCK = "tl:sweep"
SCAN_COUNT = 1000
# A key with more time left than this is one that lives as long as its conversation (the
# transcript, delivery reports); shorter ones (flood counters, rate limits) expire on their own.
LONG_LIVED_MS = 3 * 86400 * 1000
_GLOB = re.compile(r"([\\*?\[\]])")
# A conversation id is CHANNEL:ADDRESS (sms:, whatsapp:, web:); other tags ({NAME}) have no colon.
_CID = r"[a-z]+:[^{}]+"
_TAG = re.compile(r"^[^{}]*\{(" + _CID + r")\}[^{}]*$")

# KEYS[1] the conversation hash, KEYS[2..] other keys of the same conversation (same slot).
# ARGV: retention ms, long-lived ms. If the conversation is gone, its other keys go too. A
# conversation without a TTL gets one. Every other key that would outlive it, or that lives as
# long as it (more than `long` left), is set to expire when it does. Returns keys changed.
_ALIGN = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local long = tonumber(ARGV[2])
local t = redis.call('PEXPIRETIME', KEYS[1])
if t == -1 then
  t = now + tonumber(ARGV[1])
  redis.call('PEXPIREAT', KEYS[1], t)
end
local changed = 0
for i = 2, #KEYS do
  local kt = redis.call('PEXPIRETIME', KEYS[i])
  if t == -2 then
    changed = changed + redis.call('DEL', KEYS[i])
  elseif kt ~= t and (kt == -1 or kt > t or kt - now > long) then
    changed = changed + redis.call('PEXPIREAT', KEYS[i], t)
  end
end
return changed
"""
# KEYS[1] a sorted set; ARGV: member, score read earlier. Removes it only if the score did not
# move meanwhile (a new message re-adds a conversation with a new score).
_ZREM_IF_UNCHANGED = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
"""


def conversation_of(key: str) -> str | None:
    """The conversation id a key carries as its hash tag (`tl:log:{sms:+1555}` -> `sms:+1555`)."""
    match = _TAG.match(key)
    return match.group(1) if match else None


def scan(r: store.Client, pattern: str, kind: str | None = None) -> Iterator[str]:
    """Key names matching `pattern` (of type `kind`); on a cluster, from every primary."""
    for key in r.scan_iter(match=pattern, count=SCAN_COUNT, _type=kind):
        yield store.text_of(key)


def conversation_keys(r: store.Client, cid: str) -> list[str]:
    """Every key carrying the conversation's hash tag, its opt-out included."""
    return list(scan(r, "*" + _GLOB.sub(r"\\\1", "{" + cid + "}") + "*"))


def erase(r: store.Client, cid: str) -> int:
    """Delete everything kept about a conversation except its opt-out; return keys deleted."""
    doomed = [k for k in conversation_keys(r, cid) if not k.startswith(OPT_OUT_PREFIX)]
    refs = list(scan(r, REF_PATTERN, "string"))
    pipe = r.pipeline(transaction=False)
    for ref in refs:
        pipe.get(ref)
    doomed += [
        ref
        for ref, value in zip(refs, pipe.execute(), strict=True)
        if value is not None and store.text_of(value) == cid
    ]
    pipe = r.pipeline(transaction=False)
    for key in doomed:
        pipe.delete(key)  # one key per command: a cluster spreads references over slots
    # Shared indexes (queue, held alerts, whatever comes next) hold the id as a member.
    for kind, remove in (("zset", pipe.zrem), ("set", pipe.srem)):
        for key in scan(r, "tl:*", kind):
            if conversation_of(key) is None:
                remove(key, cid)
    for key in scan(r, "tl:*", "list"):
        if conversation_of(key) is None:
            pipe.lrem(key, 0, cid)
    deleted = sum(pipe.execute()[: len(doomed)])
    rewrite_aof(r)
    return deleted


def _nodes(r: store.Client) -> list[Any]:
    """A client per server: every node of a cluster (replicas keep an append-only file too)."""
    get_nodes = getattr(r, "get_nodes", None)  # RedisCluster only
    if get_nodes is None:
        return [r]
    return [node.redis_connection for node in get_nodes() if node.redis_connection]


def rewrite_aof(r: store.Client) -> None:
    """Ask each server to rewrite its append-only file, so deleted data leaves the disk too.

    A rewrite already running started from data read before the erase: wait for it to end
    (in a thread) and ask again. A server that refuses (AOF off, a managed Redis that renamed
    the command) is logged, not an error: the data is gone from memory either way.
    """
    for node in _nodes(r):
        try:
            node.bgrewriteaof()
        except ResponseError as exc:
            if "already in progress" in str(exc):
                threading.Thread(target=_rewrite_later, args=(node,), daemon=True).start()
            else:
                log.warning("append-only file not rewritten after an erase: %s", exc)
        except Exception as exc:
            log.warning("append-only file not rewritten after an erase (%s)", type(exc).__name__)


def _rewrite_later(node: Any, deadline: float = 600.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        time.sleep(1)
        try:
            if int(node.info("persistence").get("aof_rewrite_in_progress", 0)):
                continue
            node.bgrewriteaof()
            return
        except ResponseError as exc:
            if "already in progress" not in str(exc):
                log.warning("append-only file not rewritten after an erase: %s", exc)
                return
        except Exception as exc:
            log.warning("append-only file not rewritten after an erase (%s)", type(exc).__name__)
            return


def sweep(r: store.Client, retention_seconds: int) -> dict[str, int]:
    """Remove what expired or erased conversations left behind; align every live conversation's
    keys on its expiry. Returns how many index members, keys and references were touched."""
    counts = {"members": sweep_indexes(r), "keys": 0, "refs": 0}
    groups: dict[str, list[str]] = defaultdict(list)
    for key in scan(r, "tl:*{*}*"):
        cid = conversation_of(key)
        if cid and key != store.conv_key(cid) and not key.startswith(OPT_OUT_PREFIX):
            groups[cid].append(key)
        if len(groups) >= SCAN_COUNT:
            counts["keys"] += _align(r, groups, retention_seconds)
            groups.clear()
    counts["keys"] += _align(r, groups, retention_seconds)
    counts["refs"] = _sweep_refs(r)
    return counts


def _align(r: store.Client, groups: dict[str, list[str]], retention_seconds: int) -> int:
    if not groups:
        return 0
    pipe = r.pipeline(transaction=False)
    for cid, keys in groups.items():
        # execute_command: redis-py's cluster pipeline blocks `eval`, yet routes EVAL by its keys
        pipe.execute_command(
            "EVAL",
            _ALIGN,
            1 + len(keys),
            store.conv_key(cid),
            *keys,
            retention_seconds * 1000,
            LONG_LIVED_MS,
        )
    return sum(int(n) for n in pipe.execute())


def sweep_indexes(r: store.Client) -> int:
    """Take conversations that no longer exist out of the shared sorted sets (the queue, held
    alerts); return how many members were removed."""
    removed = 0
    for index in scan(r, "tl:*", "zset"):
        if conversation_of(index) is not None:
            continue
        members = [(store.text_of(m), s) for m, s in r.zrange(index, 0, -1, withscores=True)]
        members = [(m, s) for m, s in members if re.fullmatch(_CID, m)]
        for start in range(0, len(members), SCAN_COUNT):
            batch = members[start : start + SCAN_COUNT]
            pipe = r.pipeline(transaction=False)
            for cid, _ in batch:
                pipe.exists(store.conv_key(cid))
            gone = [
                (m, s) for (m, s), alive in zip(batch, pipe.execute(), strict=True) if not alive
            ]
            if not gone:
                continue
            pipe = r.pipeline(transaction=False)
            for cid, score in gone:
                pipe.execute_command("EVAL", _ZREM_IF_UNCHANGED, 1, index, cid, repr(score))
            removed += sum(int(n) for n in pipe.execute())
    return removed


def _sweep_refs(r: store.Client) -> int:
    refs = list(scan(r, REF_PATTERN, "string"))
    removed = 0
    for start in range(0, len(refs), SCAN_COUNT):
        batch = refs[start : start + SCAN_COUNT]
        pipe = r.pipeline(transaction=False)
        for ref in batch:
            pipe.get(ref)
        cids = [store.text_of(v) for v in pipe.execute()]
        pipe = r.pipeline(transaction=False)
        for cid in cids:
            pipe.exists(store.conv_key(cid or ""))
        gone = [
            ref
            for ref, cid, alive in zip(batch, cids, pipe.execute(), strict=True)
            if cid and not alive
        ]
        if gone:
            pipe = r.pipeline(transaction=False)
            for ref in gone:
                pipe.delete(ref)
            removed += sum(pipe.execute())
    return removed


class Sweeper:
    """Runs `sweep` at most once per `minutes`, across every worker and instance (a Redis lock);
    `tick` is one of the worker's background tasks (bot/upkeep.py) and costs a clock read. The
    sweep runs in a thread of its own so a long one never delays the journal's replay."""

    def __init__(self, r: store.Client, retention_seconds: int, minutes: float) -> None:
        self.r = r
        self.retention_seconds = retention_seconds
        self.interval = minutes * 60
        # The first run comes at a random point of the first interval: workers don't all ask.
        self.next_run = time.monotonic() + self.interval * random.uniform(0.1, 1.0)

    def tick(self) -> None:
        """Start a sweep in the background when the interval has passed (cheap otherwise)."""
        if self.interval <= 0 or time.monotonic() < self.next_run:
            return
        self.next_run = time.monotonic() + self.interval
        threading.Thread(target=self.run, name="sweep", daemon=True).start()

    def run(self) -> dict[str, int] | None:
        """One sweep, unless another worker ran one within the interval."""
        try:
            if not self.r.set(SWEEP_LOCK, os.getpid(), nx=True, ex=max(1, int(self.interval))):
                return None
            counts = sweep(self.r, self.retention_seconds)
        except Exception as exc:
            log.warning("retention sweep failed (%s); next time", type(exc).__name__)
            return None
        if any(counts.values()):
            log.info("retention sweep: %s", counts)
        return counts
