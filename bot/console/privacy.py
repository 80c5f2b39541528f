"""What operators may see: masked addresses, and opaque references instead of conversation ids.

A conversation id holds the full phone number, so console URLs and JSON use a keyed hash of it
(`ref`); Redis maps each ref back to its id for as long as the conversation is kept.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

BULLETS = "•••••"


def ref_key(ref: str) -> str:
    return f"tl:ref:{ref}"


def mask(address: str) -> str:
    """'+15550001111' -> '+1•••••1111'; a web token keeps only its last 4 characters."""
    address = address or ""
    if address.startswith("+") and len(address) > 6:
        return address[:2] + BULLETS + address[-4:]
    return BULLETS + address[-4:] if len(address) > 4 else BULLETS


def ref_for(secret: str, cid: str) -> str:
    return hmac.new(secret.encode(), cid.encode(), hashlib.sha256).hexdigest()[:24]


def remember(r: Any, secret: str, cids: list[str], ttl: int) -> dict[str, str]:
    """Refs for `cids` (cid -> ref), stored so that `resolve` finds them again."""
    refs = {cid: ref_for(secret, cid) for cid in cids}
    if refs:
        pipe = r.pipeline(transaction=False)
        for cid, ref in refs.items():
            pipe.set(ref_key(ref), cid, ex=ttl)
        pipe.execute()
    return refs


def resolve(r: Any, ref: str) -> str | None:
    raw = r.get(ref_key(ref)) if ref.isalnum() else None
    return raw.decode() if isinstance(raw, bytes) else raw


def forget(r: Any, ref: str) -> None:
    r.delete(ref_key(ref))
