"""What the console remembers across a conversation's life: episodes, indexes and shift counters.

A conversation id is CHANNEL:ADDRESS, so a number that writes again after its conversation was
closed reopens the same conversation. Each close ends an *episode*: it is appended to the
conversation hash's `episodes` field (JSON, the last `EPISODES_KEPT`), with when it opened and
closed, its priority, who ended it (`person`: the web chat's quick exit, or `operator`), when
it became critical and when a person first answered it, and the wrap-up (`outcome`,
`exploitation`, `minor`) if one was written by then. `peak_priority` on the hash is the highest
priority of every closed episode: bot/conversation.py reads it (through `store.State`) to reopen
a conversation that was critical or high at `high` at least, without another round trip.

Indexes (sorted sets whose members are conversation ids, so erase and the retention sweep in
bot/retention.py prune them like the queue):

- `CONVS`: every kept conversation, scored by its last message from the person (search);
- `CRITICAL`: conversations by when their latest critical episode began (reply times);
- `CLOSED`: conversations by when they were last closed (outcomes).

Shift counters: one hash per hour (`tl:stats:h:<hour start>`) counting messages received by
intent, language and channel, new conversations (episodes started) and those that became
critical. They hold no conversation id, and expire after `STATS_KEEP`.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bot import store

CONVS = "tl:convs"
CRITICAL = "tl:critical"
CLOSED = "tl:closed"
STATS_PREFIX = "tl:stats:h:"
STATS_KEEP = 8 * 86400
EPISODES_KEPT = 20
INTENT_FIELD = "intent:"  # conv hash: messages read as each intent (`intent:emergency` = 2)

# KEYS[1] the conversation hash. ARGV: now, who ended it, episodes kept, then the priorities
# most urgent first. Closes an open conversation and appends the episode that ends; returns 1,
# or 0 when it was not open (already closed, erased, expired: nothing is created). The wrap-up
# (bot/console/annotations.py) is written just after a close and stays on the hash: one written
# before this episode opened belongs to the episode before, and goes to it if it has none.
_CLOSE = """
local f = redis.call('HMGET', KEYS[1], 'status', 'priority', 'peak_priority', 'waiting_since',
  'critical_since', 'critical_reply_ts', 'first_human_reply_ts', 'last_intent', 'episodes',
  'outcome', 'exploitation', 'minor', 'wrapup_ts')
if f[1] ~= 'open' then return 0 end
local rank = {}
for i = 4, #ARGV do rank[ARGV[i]] = i end
local priority = f[2] or 'normal'
local peak = priority
if f[3] and rank[f[3]] and (not rank[peak] or rank[f[3]] < rank[peak]) then peak = f[3] end
local episode = {closed = ARGV[1], by = ARGV[2], priority = priority}
local names = {'', '', '', 'opened', 'critical_since', 'critical_reply_ts', 'first_reply',
  'intent'}
for i, name in ipairs(names) do
  if name ~= '' and f[i] then episode[name] = f[i] end
end
local episodes = {}
if f[9] then
  local ok, old = pcall(cjson.decode, f[9])
  if ok and type(old) == 'table' then episodes = old end
end
local wrapped = tonumber(f[13])
if f[10] and wrapped then
  local target = episode
  if not (f[4] and wrapped >= tonumber(f[4])) then target = episodes[#episodes] end
  if target and not target.outcome then
    target.outcome = f[10]
    target.exploitation = f[11] or nil
    target.minor = f[12] or nil
  end
end
table.insert(episodes, episode)
local keep = tonumber(ARGV[3])
while #episodes > keep do table.remove(episodes, 1) end
redis.call('HSET', KEYS[1], 'status', 'closed', 'episodes', cjson.encode(episodes),
  'peak_priority', peak, 'ended_by', ARGV[2], 'closed_ts', ARGV[1])
redis.call('HDEL', KEYS[1], 'claimed_by', 'waiting_since', 'critical_since', 'critical_reply_ts',
  'first_human_reply_ts')
return 1
"""

# KEYS[1] the conversation hash; ARGV[1] when. The first operator reply of this episode, and
# the first one since it became critical. Nothing is created for a conversation that is gone.
_REPLIED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSETNX', KEYS[1], 'first_human_reply_ts', ARGV[1])
if redis.call('HEXISTS', KEYS[1], 'critical_since') == 1 then
  return redis.call('HSETNX', KEYS[1], 'critical_reply_ts', ARGV[1])
end
return 0
"""


def stats_key(ts: float) -> str:
    """The counter hash of the hour `ts` falls in."""
    return f"{STATS_PREFIX}{int(ts // 3600 * 3600)}"


def on_turn(
    pipe: Any,
    state: store.State,
    *,
    channel: str,
    language: str,
    inbound: store.Entry,
    priority: str,
    reopened: bool,
) -> None:
    """Queue on `pipe` (store.record_turn's) the index and counter updates of one message."""
    cid, now = state.cid, inbound.ts
    conv = store.conv_key(cid)
    pipe.zadd(CONVS, {cid: now}, gt=True)  # a replayed older turn never moves it back
    intent = inbound.intent or "unknown"
    pipe.hincrby(conv, INTENT_FIELD + intent, 1)
    bucket = stats_key(now)
    counts = {"in": 1, f"intent:{intent}": 1, f"lang:{language}": 1, f"chan:{channel}": 1}
    if reopened:
        counts["new"] = 1
        pipe.hdel(conv, "ended_by")
        own = inbound.priority or "low"
        if (
            state.peak_priority in store.URGENT
            and priority == "high"
            and store.PRIORITY_RANK.get(own, 3) > store.PRIORITY_RANK["high"]
        ):
            # raised by bot/conversation.py because an earlier episode was critical or high:
            # the queue's "why" says so (bot/console/views.py priority_reason)
            why = json.loads(store.priority_reason(inbound, priority))
            pipe.hset(
                conv,
                "priority_reason",
                json.dumps(why | {"earlier": state.peak_priority}, ensure_ascii=False),
            )
    if priority == "critical" and (reopened or not state.critical_since):
        pipe.hset(conv, "critical_since", repr(now))
        pipe.zadd(CRITICAL, {cid: now})
        counts["critical"] = 1
    for name, n in counts.items():
        pipe.hincrby(bucket, name, n)
    pipe.expire(bucket, STATS_KEEP)


def close(r: store.Client, cid: str, ended_by: str, now: float | None = None) -> bool:
    """Close an open conversation and keep the episode that ends (see the module's text);
    False when it was not open."""
    now = time.time() if now is None else now
    done = r.eval(
        _CLOSE, 1, store.conv_key(cid), repr(now), ended_by, EPISODES_KEPT, *store.PRIORITY_RANK
    )
    if done:
        r.zadd(CLOSED, {cid: now})
    return bool(done)


def human_replied(r: store.Client, cid: str, ts: float) -> None:
    """An operator's reply went out: the first of this episode (and since it became critical)
    is kept, for the time to the first human reply."""
    r.eval(_REPLIED, 1, store.conv_key(cid), repr(ts))


def episodes(conv: dict[str, str]) -> list[dict[str, Any]]:
    """A conversation's closed episodes, oldest first, times as floats; the wrap-up still on the
    hash goes to the latest one if it was written after that one opened (see `_CLOSE`)."""
    try:
        found = json.loads(conv.get("episodes") or "[]")
    except ValueError:
        return []
    out = []
    for episode in found if isinstance(found, list) else []:
        if not isinstance(episode, dict):
            continue
        for name in TIMES:
            if name in episode:
                episode[name] = to_float(episode[name])
        out.append(episode)
    wrapped = to_float(conv.get("wrapup_ts"))
    reopened = to_float(conv.get("waiting_since")) if conv.get("status") == "open" else None
    if out and conv.get("outcome") and wrapped and not out[-1].get("outcome"):
        last = out[-1]
        if wrapped >= (last.get("opened") or last.get("closed") or 0) and not (
            reopened and wrapped >= reopened
        ):
            for name in WRAPUP:
                if conv.get(name):
                    last[name] = conv[name]
    return out


TIMES = ("closed", "opened", "critical_since", "critical_reply_ts", "first_reply")
WRAPUP = ("outcome", "exploitation", "minor")
# the conversation hash's fields that `episodes` reads
EPISODE_FIELDS = ("status", "episodes", *WRAPUP, "wrapup_ts", "waiting_since")


def to_float(value: Any) -> float | None:
    """A stored number as a float; None if it is missing or not a number."""
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def intents_seen(conv: dict[str, str]) -> dict[str, int]:
    """How many of the person's messages were read as each intent."""
    return {
        k[len(INTENT_FIELD) :]: int(v)
        for k, v in conv.items()
        if k.startswith(INTENT_FIELD) and str(v).isdigit()
    }
