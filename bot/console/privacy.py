"""What operators may see: masked addresses, and opaque references instead of conversation ids.

A conversation id holds the full phone number, so console URLs and JSON use a keyed hash of it
(`ref`); Redis maps each ref back to its id for as long as the conversation is kept.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from bot.store import Client

BULLETS = "•••••"


def ref_key(ref: str) -> str:
    """The Redis key mapping a ref back to its conversation id."""
    return f"tl:ref:{ref}"


def mask(address: str) -> str:
    """'+15550001111' -> '+1•••••1111'; a web token keeps only its last 4 characters."""
    address = address or ""
    if address.startswith("+") and len(address) > 6:
        return address[:2] + BULLETS + address[-4:]
    return BULLETS + address[-4:] if len(address) > 4 else BULLETS


def ref_for(secret: str, cid: str) -> str:
    """The conversation's ref: a keyed hash of its id, 24 hex digits."""
    return hmac.new(secret.encode(), cid.encode(), hashlib.sha256).hexdigest()[:24]


def remember(r: Client, secret: str, cids: list[str], ttl: int) -> dict[str, str]:
    """Refs for `cids` (cid -> ref), stored so that `resolve` finds them again."""
    refs = {cid: ref_for(secret, cid) for cid in cids}
    if refs:
        pipe = r.pipeline(transaction=False)
        for cid, ref in refs.items():
            pipe.set(ref_key(ref), cid, ex=ttl)
        pipe.execute()
    return refs


def resolve(r: Client, ref: str) -> str | None:
    """The conversation id a ref stands for, or None if unknown, expired or malformed."""
    raw = r.get(ref_key(ref)) if ref.isalnum() else None
    return raw.decode() if isinstance(raw, bytes) else raw


def forget(r: Client, ref: str) -> None:
    """Drop a ref, so its URLs stop resolving."""
    r.delete(ref_key(ref))


TAG_LENGTH = 4


def tag(ref: str) -> str:
    """A short stable tag for a conversation (the start of its ref), shown beside its masked
    number: two numbers that mask alike (`+1•••••0004`) still look different."""
    return ref[:TAG_LENGTH]


def distinct(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lengthen the `tag` of rows that would look the same (same `number` and `tag`, different
    `ref`) until no two different conversations in `rows` look alike; returns `rows`."""
    length = TAG_LENGTH
    while True:
        refs: dict[tuple[str, str], set[str]] = {}
        for row in rows:
            refs.setdefault((row["number"], row["tag"]), set()).add(row["ref"])
        clashes = {look for look, found in refs.items() if len(found) > 1}
        if not clashes or length >= max(len(row["ref"]) for row in rows):
            return rows
        length += 2
        for row in rows:
            if (row["number"], row["tag"]) in clashes:
                row["tag"] = row["ref"][:length]
