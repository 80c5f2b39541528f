"""Failed-login counters in Redis, per account name and per client address.

Shared by every worker and every instance on the same Redis. A counter starts its window at the
first failure; while it is at the limit, logins are refused even with the right password.
"""

from __future__ import annotations

import hashlib
from typing import Any


def _keys(name: str, address: str) -> tuple[str, str]:
    # Hash the name: people sometimes type their password into the name field.
    digest = hashlib.sha256(name.strip().lower().encode()).hexdigest()[:32]
    return f"tl:loginfail:name:{digest}", f"tl:loginfail:addr:{address}"


def blocked_for(
    r: Any, name: str, address: str, *, per_name: int, per_address: int
) -> int:
    """Seconds until a login may be tried again for this name/address (0: allowed now)."""
    name_key, addr_key = _keys(name, address)
    pipe = r.pipeline(transaction=False)
    for key in (name_key, addr_key):
        pipe.get(key)
        pipe.ttl(key)
    name_n, name_ttl, addr_n, addr_ttl = pipe.execute()
    waits = [0]
    if int(name_n or 0) >= per_name:
        waits.append(max(int(name_ttl), 1))
    if int(addr_n or 0) >= per_address:
        waits.append(max(int(addr_ttl), 1))
    return max(waits)


def fail(r: Any, name: str, address: str, window: int) -> None:
    """Count one failed login against the name and the address."""
    pipe = r.pipeline(transaction=False)
    for key in _keys(name, address):
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
    pipe.execute()


def succeed(r: Any, name: str, address: str) -> None:
    """A right password clears the name's counter (the address keeps its own)."""
    r.delete(_keys(name, address)[0])
