"""Operator accounts in Redis: argon2id password hashes, roles (operator/admin), a disabled flag.

One hash per account (`tl:op:{name}`) and a set of every name (`tl:ops`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.store import Client

ROLES = ("operator", "admin")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
MIN_PASSWORD = 10
NAMES = "tl:ops"
_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (64 MiB, t=3)
_DUMMY_HASH = _hasher.hash("not a real password: equalises timing for unknown names")


class AccountError(ValueError):
    """A name or password that cannot be used; the message says why."""


@dataclass(frozen=True)
class Account:
    """One operator as stored (without the hash)."""

    name: str
    role: str = "operator"
    disabled: bool = False
    created: float = 0.0

    @property
    def is_admin(self) -> bool:
        """Whether the operator may also manage accounts, canned answers and others' chats."""
        return self.role == "admin"


def account_key(name: str) -> str:
    """The Redis hash holding one account's fields."""
    return f"tl:op:{name}"


def _decode(raw: dict) -> dict[str, str]:
    return {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in raw.items()
    }


def check_name(name: str) -> str:
    """The name as stored (lower case); :raise AccountError: if it is not a plain short name."""
    name = (name or "").strip().lower()
    if not NAME_RE.match(name):
        raise AccountError("a name is 2-32 characters: letters, digits, '.', '_' or '-'")
    return name


def create(r: Client, name: str, password: str, *, admin: bool = False) -> Account:
    """Add an account; :raise AccountError: if the name is taken or the password too short."""
    name = check_name(name)
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    now = time.time()
    fields = {
        "name": name,
        "role": "admin" if admin else "operator",
        "hash": _hasher.hash(password),
        "disabled": "0",
        "created": repr(now),
    }
    if not r.hsetnx(account_key(name), "name", name):
        raise AccountError(f"an account named {name!r} already exists")
    pipe = r.pipeline(transaction=False)
    pipe.hset(account_key(name), mapping=fields)
    pipe.sadd(NAMES, name)
    pipe.execute()
    return Account(name, fields["role"], False, now)


def get(r: Client, name: str) -> Account | None:
    """The stored account, or None if the name is malformed or has no account."""
    try:
        name = check_name(name)
    except AccountError:
        return None
    h = _decode(r.hgetall(account_key(name)))
    if not h.get("hash"):
        return None
    return Account(name, h.get("role", "operator"), h.get("disabled") == "1", float(h["created"]))


def all_accounts(r: Client) -> list[Account]:
    """Every stored account, sorted by name."""
    names = sorted(n.decode() if isinstance(n, bytes) else n for n in r.smembers(NAMES))
    return [a for a in (get(r, n) for n in names) if a is not None]


def set_disabled(r: Client, name: str, disabled: bool = True) -> bool:
    """Disable (or enable) an account; its open sessions end at their next request."""
    if get(r, name) is None:
        return False
    r.hset(account_key(check_name(name)), "disabled", "1" if disabled else "0")
    return True


def authenticate(r: Client, name: str, password: str) -> Account | None:
    """The account if `password` is right and the account enabled; else None, in similar time."""
    try:
        key = account_key(check_name(name))
        stored = _decode(r.hgetall(key)).get("hash")
    except AccountError:
        stored = None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if stored is None:
        return None
    if _hasher.check_needs_rehash(stored):
        r.hset(key, "hash", _hasher.hash(password))
    account = get(r, name)
    return account if account and not account.disabled else None
