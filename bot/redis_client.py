"""One Redis client per process, from REDIS_URL or the embedded server; never fails at start."""

from __future__ import annotations

import logging
from typing import Any

import redis

log = logging.getLogger(__name__)

# Short timeouts: a reply must go out in milliseconds even when Redis is gone.
_TIMEOUTS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5, "health_check_interval": 10}


def connect(url: str, data_dir: str) -> Any:
    """A client for `url`, or for the embedded server under `data_dir` when `url` is empty."""
    if not url:
        from bot.embedded import ensure_server

        url = ensure_server(data_dir)
        log.info("no REDIS_URL: using the embedded Valkey at %s", url)
    return redis.Redis.from_url(url, **_TIMEOUTS)
