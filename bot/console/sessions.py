"""Console sessions kept in Redis, so that logging out (or an admin) really ends them.

The signed Flask cookie carries the operator's name and a random session id; the session is
live only while `tl:console:session:{NAME}:HASH` exists (HASH: SHA-256 of the id, so a copy
of Redis holds no usable id). Each operator's ids are also in the set `tl:console:sessions:{NAME}`,
which lets an admin end all of them. Both keys of one operator share a Redis Cluster slot.
"""

from __future__ import annotations

import hashlib
import secrets

from bot.store import Client


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def session_key(name: str, session_id_hash: str) -> str:
    """The Redis key that keeps one session live (its id hashed), in the operator's slot."""
    return f"tl:console:session:{{{name}}}:{session_id_hash}"


def sessions_key(name: str) -> str:
    """The Redis set of an operator's session hashes, so an admin can end them all."""
    return f"tl:console:sessions:{{{name}}}"


def start(r: Client, name: str, lifetime_seconds: int) -> str:
    """A new live session for `name`; returns its id (for the signed cookie only)."""
    session_id = secrets.token_urlsafe(32)
    digest = _hash(session_id)
    pipe = r.pipeline(transaction=False)
    pipe.set(session_key(name, digest), "1", ex=lifetime_seconds)
    pipe.sadd(sessions_key(name), digest)
    pipe.expire(sessions_key(name), lifetime_seconds)  # the newest session lives longest
    pipe.execute()
    return session_id


def is_live(r: Client, name: str, session_id: str | None) -> bool:
    """True while the session has not been ended (logout, admin, disable) nor expired."""
    return bool(session_id) and bool(r.exists(session_key(name, _hash(str(session_id)))))


def end(r: Client, name: str, session_id: str | None) -> None:
    """End one session (logout)."""
    if not session_id:
        return
    digest = _hash(str(session_id))
    pipe = r.pipeline(transaction=False)
    pipe.delete(session_key(name, digest))
    pipe.srem(sessions_key(name), digest)
    pipe.execute()


def _digests(r: Client, name: str) -> list[str]:
    return [d.decode() if isinstance(d, bytes) else d for d in r.smembers(sessions_key(name))]


def _each_session(r: Client, name: str, command: str, *, forget: bool = False) -> list[int]:
    """Run `command` (EXISTS or DEL) on each session key of `name` in one pipeline, and with
    `forget` take those sessions out of the set; the command's replies, one a session."""
    digests = _digests(r, name)
    if not digests:
        return []
    pipe = r.pipeline(transaction=False)
    for digest in digests:
        pipe.execute_command(command, session_key(name, digest))
    if forget:
        pipe.srem(sessions_key(name), *digests)  # not DEL: a login meanwhile keeps its entry
    return pipe.execute()[: len(digests)]


def live_count(r: Client, name: str) -> int:
    """How many sessions of `name` are live now."""
    return sum(bool(found) for found in _each_session(r, name, "EXISTS"))


def end_all(r: Client, name: str) -> int:
    """End every session of `name` (admin action, disabled account, new password).

    Returns how many were live.
    """
    return sum(_each_session(r, name, "DEL", forget=True))
