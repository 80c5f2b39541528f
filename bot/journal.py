"""A local, durable journal of turns that could not reach Redis, replayed when it answers.

A reply tells the person "we have your message", so a turn Redis refuses is appended to
`DATA_DIR/journal.jsonl` (one JSON line, fsynced) and replayed into Redis in order, exactly once,
by whichever worker on this machine sees Redis answer first. While turns wait, new ones join the
end of the journal rather than overtaking them. The journal is bounded (`JOURNAL_MAX_MB`).

Replay moves the journal aside (`journal.replaying.jsonl`) under a lock, so writers never wait
for a replay; every record carries an id, and Redis keeps a marker per replayed id, so a replay
cut short (a crash, Redis gone again) starts over without storing anything twice.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class JournalFull(Exception):
    """The journal reached its size limit: the turn could not be kept."""


class Journal:
    """Append, count and replay the turns kept on this machine's disk."""

    def __init__(self, directory: Path | str, max_bytes: int = 64 * 2**20) -> None:
        self.directory = Path(directory)
        self.path = self.directory / "journal.jsonl"
        self.replaying = self.directory / "journal.replaying.jsonl"
        self.max_bytes = max_bytes
        self._replay_lock = threading.Lock()

    @contextmanager
    def _locked(self, name: str, blocking: bool = True) -> Iterator[bool]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / name, "a") as lock:
            flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
            try:
                fcntl.flock(lock, flags)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _size(self, path: Path) -> int:
        try:
            return path.stat().st_size
        except OSError:
            return 0

    @property
    def full(self) -> bool:
        """Whether another turn may not fit (a turn is at most a few kilobytes)."""
        return self._size(self.path) + self._size(self.replaying) + 8192 > self.max_bytes

    def pending(self) -> bool:
        """Whether turns wait (one stat per file: cheap enough for every message)."""
        return self._size(self.path) > 0 or self._size(self.replaying) > 0

    def append(self, record: dict[str, Any]) -> str:
        """Write one turn durably; return its id. :raise JournalFull: :raise OSError:"""
        record = {**record, "id": record.get("id") or uuid.uuid4().hex}
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        with self._locked("journal.lock"):
            if self._size(self.path) + self._size(self.replaying) + len(line) > self.max_bytes:
                raise JournalFull(f"journal over {self.max_bytes} bytes")
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        return record["id"]

    def waiting(self) -> int:
        """How many turns wait to reach Redis."""
        count = 0
        for path in (self.replaying, self.path):
            try:
                with open(path, "rb") as f:
                    count += sum(1 for line in f if line.strip())
            except OSError:
                pass
        return count

    def replay(self, apply: Callable[[dict[str, Any]], None]) -> int:
        """Hand every waiting turn to `apply`, oldest first; return how many were applied.

        Stops at the first failure (Redis gone again): the rest stays for the next attempt.
        Returns at once if another thread or worker is replaying.
        """
        if not self._replay_lock.acquire(blocking=False):
            return 0
        try:
            with self._locked("journal.replay.lock", blocking=False) as mine:
                if not mine:
                    return 0
                applied = 0
                while True:
                    if not self.replaying.exists():
                        with self._locked("journal.lock"):
                            if self._size(self.path) == 0:
                                return applied
                            os.replace(self.path, self.replaying)
                    for record in self._records(self.replaying):
                        apply(record)  # an exception leaves the file for the next attempt
                        applied += 1
                    self.replaying.unlink()
        finally:
            self._replay_lock.release()

    def _records(self, path: Path) -> Iterator[dict[str, Any]]:
        with open(path, "rb") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except ValueError:  # a torn last line (power cut mid-write): nothing to apply
                    log.error("journal line %d of %s is not JSON; skipped", number, path)
