"""A circuit breaker around the Redis client: a hung or dead Redis costs one timeout, not one
per command.

After a connection error or a timeout the circuit opens for `cooldown` seconds: every command
fails at once with `RedisUnavailable` (the callers already treat Redis errors as "not stored",
and the journal keeps the message). Then one caller probes; success closes the circuit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from bot.faults import Faults

log = logging.getLogger(__name__)

# What says "Redis is not there", as opposed to a bad command (redis.ResponseError).
OUTAGES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class RedisUnavailable(redis.exceptions.ConnectionError):
    """Raised without touching the network while the circuit is open."""


class Circuit:
    """The breaker's state, shared by every thread of a process."""

    def __init__(self, cooldown: float = 2.0, on_open: Callable[[], None] | None = None) -> None:
        self.cooldown = cooldown
        self.on_open = on_open
        self.open_until = 0.0
        self.failures = 0
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        """Whether the last attempt failed: commands fail fast but for one probe a cooldown."""
        return self.failures > 0

    def before_call(self) -> None:
        """:raise RedisUnavailable: while open; after the cooldown let one caller probe."""
        if not self.failures:
            return
        with self._lock:
            now = time.monotonic()
            if now < self.open_until:
                raise RedisUnavailable("Redis is unavailable (circuit open)")
            self.open_until = now + self.cooldown  # this caller probes; the others fail fast

    def succeeded(self) -> None:
        """Close the circuit after a command got through (logging the recovery once)."""
        if self.failures:
            log.warning("Redis answers again after %d failed attempt(s)", self.failures)
            self.failures = 0

    def failed(self, exc: BaseException) -> None:
        """Open the circuit for `cooldown` seconds after `exc`; log the first; call `on_open`."""
        with self._lock:
            self.failures += 1
            self.open_until = time.monotonic() + self.cooldown
        if self.failures == 1:
            log.error(
                "Redis unavailable (%s): failing fast for %.1f s", type(exc).__name__, self.cooldown
            )
        if self.on_open:
            self.on_open()

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `fn` through the circuit: fail fast while open, count an outage, close on success."""
        self.before_call()
        try:
            result = fn(*args, **kwargs)
        except RedisUnavailable:
            raise
        except OUTAGES as exc:
            self.failed(exc)
            raise
        self.succeeded()
        return result


class GuardedPipeline:
    """A pipeline whose `execute` goes through the circuit; queuing commands needs no network."""

    def __init__(self, circuit: Circuit, pipeline: Any) -> None:
        self._circuit = circuit
        self._pipeline = pipeline

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        """Send the queued commands, through the circuit."""
        return self._circuit.call(self._pipeline.execute, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipeline, name)

    def __enter__(self) -> GuardedPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pipeline.reset()


class GuardedRedis:
    """Every command of `client` goes through `circuit`; pipelines are guarded on execute."""

    def __init__(self, client: Any, circuit: Circuit | None = None) -> None:
        self.client = client
        self.circuit = circuit or Circuit()
        self.embedded_dir: Path | None = None  # set when this is the embedded Valkey
        self.faults: Faults = Faults()

    def pipeline(self, *args: Any, **kwargs: Any) -> GuardedPipeline:
        """A pipeline of `client` whose `execute` goes through the circuit."""
        return GuardedPipeline(self.circuit, self.client.pipeline(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.client, name)
        if not callable(attribute):
            return attribute

        def guarded(*args: Any, **kwargs: Any) -> Any:
            return self.circuit.call(attribute, *args, **kwargs)

        return guarded
