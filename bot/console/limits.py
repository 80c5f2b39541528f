"""Console login limits in Redis, shared by every worker and instance.

Every password check is counted *before* it is made, in one atomic Redis step, so parallel
guesses cannot all slip past a limit that was read before any of them was counted.

1. Per client address: at most `per_address` checks per window (INCR first, then compare).
   A right password gives its check back, so an office behind one address is not punished.
2. Per account name: the first `per_name` checks in a row are free; after that each further
   check waits a delay that doubles (`first_delay`, twice that, ... at most `window`). A right
   password clears it; it is forgotten after `window` without a check. An attacker's five
   guesses therefore cost the real operator `first_delay` (30 s), not a 15-minute lock-out.
"""

from __future__ import annotations

import hashlib

from bot.store import Client

# KEYS[1]: the name's hash {n: checks since the last right password, next: earliest next check,
# in Redis's clock}. ARGV: free checks, first delay, longest delay (the window). Returns 0 and
# counts the check, or the whole seconds to wait.
_NAME_GATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local next_at = tonumber(redis.call('HGET', KEYS[1], 'next') or '0')
if now < next_at then return math.ceil(next_at - now) end
local free, first, longest = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local delay = 0
if n >= free then
  delay = math.min(first * 2 ^ (n - free), longest)
  redis.call('HSET', KEYS[1], 'next', tostring(now + delay))
end
redis.call('EXPIRE', KEYS[1], math.ceil(longest + delay))
return 0
"""


def _keys(name: str, address: str) -> tuple[str, str]:
    # Hash the name: people sometimes type their password into the name field.
    digest = hashlib.sha256(name.strip().lower().encode()).hexdigest()[:32]
    return f"tl:loginfail:name:{digest}", f"tl:loginfail:addr:{address}"


def admit(
    r: Client,
    name: str,
    address: str,
    *,
    per_name: int,
    per_address: int,
    window: int,
    first_delay: int,
) -> int:
    """Count one password check for this name and address: 0 if it may be made now, else the
    seconds to wait (nothing is checked then)."""
    name_key, addr_key = _keys(name, address)
    pipe = r.pipeline(transaction=False)
    pipe.incr(addr_key)
    pipe.expire(addr_key, window, nx=True)
    pipe.ttl(addr_key)
    checks, _, ttl = pipe.execute()
    if checks > per_address:
        return max(int(ttl), 1)
    wait = int(r.eval(_NAME_GATE, 1, name_key, per_name, first_delay, window))
    if wait:
        _give_back(r, addr_key, window)  # no check was made
    return wait


def succeed(r: Client, name: str, address: str, window: int) -> None:
    """A right password clears the name's delay and gives the address its check back."""
    name_key, addr_key = _keys(name, address)
    r.delete(name_key)
    _give_back(r, addr_key, window)


def _give_back(r: Client, addr_key: str, window: int) -> None:
    pipe = r.pipeline(transaction=False)
    pipe.decr(addr_key)
    pipe.expire(addr_key, window, nx=True)  # if it expired meanwhile, do not keep it forever
    pipe.execute()
