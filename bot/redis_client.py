"""One Redis client per process, from REDIS_URL or the embedded server; never fails at start.

`REDIS_URL` may name a single server (`redis://`, `rediss://` for TLS, `unix://`) or, with
`REDIS_CLUSTER=1` or `?cluster=true` in the URL, any node of a Redis Cluster.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.cluster import RedisCluster

log = logging.getLogger(__name__)

# Short timeouts: a reply must go out in milliseconds even when Redis is gone.
_TIMEOUTS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5, "health_check_interval": 10}
_TRUE = {"1", "true", "yes", "on"}


def connect(url: str, data_dir: str, cluster: bool = False) -> Any:
    """A client for `url`, or for the embedded server under `data_dir` when `url` is empty."""
    if not url:
        from bot.embedded import ensure_server

        url = ensure_server(data_dir)
        log.info("no REDIS_URL: using the embedded Valkey at %s", url)
    url, flagged = split_cluster_flag(url)
    if cluster or flagged:
        return LazyCluster(url)
    return redis.Redis.from_url(url, **_TIMEOUTS)


def split_cluster_flag(url: str) -> tuple[str, bool]:
    """Remove `cluster=...` from the URL's query; return the URL and whether it was true."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    flag = [v for k, v in query if k == "cluster"]
    if not flag:
        return url, False
    rest = urlencode([(k, v) for k, v in query if k != "cluster"])
    return urlunsplit(parts._replace(query=rest)), flag[-1].lower() in _TRUE


class LazyCluster:
    """Connects to the cluster on first use, so the app starts (and answers) while it is down."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: RedisCluster | None = None

    def client(self) -> RedisCluster:
        if self._client is None:
            kwargs = {k: v for k, v in _TIMEOUTS.items() if k != "health_check_interval"}
            self._client = RedisCluster.from_url(self.url, **kwargs)
        return self._client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client(), name)
