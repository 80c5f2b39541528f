"""Audit log of what operators do (claim, reply, hand back, close, erase, block, logins).

A capped Redis list, newest first. Entries carry the conversation's masked address and opaque
reference, never the full number, so erasing a conversation leaves nothing identifying here.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bot.store import Client

AUDIT = "tl:audit"
KEEP = 10_000


def record(r: Client, actor: str, action: str, **details: str) -> None:
    """Append one event; `details` are short strings (ref, target, addr, note)."""
    entry = {"ts": time.time(), "actor": actor[:64], "action": action}
    entry.update({k: str(v)[:200] for k, v in details.items() if v})
    pipe = r.pipeline(transaction=False)
    pipe.lpush(AUDIT, json.dumps(entry))
    pipe.ltrim(AUDIT, 0, KEEP - 1)
    pipe.execute()


def recent(r: Client, limit: int = 500) -> list[dict[str, Any]]:
    """The newest `limit` events, newest first."""
    return [json.loads(raw) for raw in r.lrange(AUDIT, 0, limit - 1)]
