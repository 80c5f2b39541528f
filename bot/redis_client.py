"""One Redis client per process, from REDIS_URL or the embedded server; never fails at start.

`REDIS_URL` may name a single server (`redis://`, `rediss://` for TLS, `unix://`) or, with
`REDIS_CLUSTER=1` or `?cluster=true` in the URL, any node of a Redis Cluster.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.cluster import RedisCluster

from bot.breaker import Circuit, GuardedRedis
from bot.faults import Faults

log = logging.getLogger(__name__)

# Short timeouts: a reply must go out in milliseconds even when Redis is gone.
_TIMEOUTS = {"socket_timeout": 0.25, "socket_connect_timeout": 0.25, "health_check_interval": 10}
_TRUE = {"1", "true", "yes", "on"}


def connect(
    url: str, data_dir: str, cluster: bool = False, faults: Faults | None = None
) -> GuardedRedis:
    """A guarded client for `url`, or for the embedded server under `data_dir` when `url` is
    empty. Never raises: if the embedded server cannot start, the fault is named in `faults`
    and the client fails fast until the upkeep task restarts the server."""
    faults = faults if faults is not None else Faults()
    embedded_dir = None
    if not url:
        from bot.embedded import EmbeddedFault, embedded_url, ensure_server

        embedded_dir = Path(data_dir)
        try:
            url = ensure_server(data_dir)
            log.info("no REDIS_URL: using the embedded Valkey at %s", url)
        except EmbeddedFault as exc:
            faults.set("redis", str(exc))
            url = embedded_url(data_dir)
    url, flagged = split_cluster_flag(url)
    raw = LazyCluster(url) if cluster or flagged else redis.Redis.from_url(url, **_TIMEOUTS)
    client = GuardedRedis(raw, Circuit())
    client.embedded_dir, client.faults = embedded_dir, faults
    return client


def restart_embedded(client: GuardedRedis, every: float = 3.0) -> Callable[[], None]:
    """The upkeep task that (re)starts the embedded server when it is down or never started."""
    last = [0.0]

    def restart_embedded() -> None:
        from bot.embedded import EmbeddedFault, ensure_server

        if client.embedded_dir is None or time.monotonic() - last[0] < every:
            return
        if not client.circuit.is_open and "redis" not in client.faults:
            return
        last[0] = time.monotonic()
        try:
            ensure_server(client.embedded_dir)
            client.faults.clear("redis")
        except EmbeddedFault as exc:
            client.faults.set("redis", str(exc))

    return restart_embedded


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
        """The cluster client, connecting on the first call."""
        if self._client is None:
            kwargs = {k: v for k, v in _TIMEOUTS.items() if k != "health_check_interval"}
            self._client = RedisCluster.from_url(self.url, **kwargs)
        return self._client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client(), name)
