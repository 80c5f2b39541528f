"""Conversation tokens for the web chat: random, and signed so an unknown one is refused at once.

Nothing is stored when a token is issued; the conversation id is `web:<token>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

_SHAPE = re.compile(r"^[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{16}$")


def _signature(secret: str, nonce: str) -> str:
    digest = hmac.new(secret.encode(), b"widget:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:16]


def new_token(secret: str) -> str:
    """A fresh token: 18 random bytes (URL-safe) and a 96-bit signature."""
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_signature(secret, nonce)}"


def is_valid(secret: str, token: object) -> bool:
    """True for a token this app issued (with this SECRET_KEY)."""
    if not isinstance(token, str) or not _SHAPE.match(token):
        return False
    nonce, _, signature = token.partition(".")
    return hmac.compare_digest(signature, _signature(secret, nonce))
