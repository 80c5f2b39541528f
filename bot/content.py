"""The classifier and reply texts in use, reloaded when their files change; last good kept."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.datafiles import DataError
from bot.replies import Replies, load_interpreter_lines, load_responses
from bot.triage.contract import BUILT_IN, Contract, contract_file, load_contract

if TYPE_CHECKING:
    from bot.triage.classify import Classifier

log = logging.getLogger(__name__)


def _stamp(*directories: Path) -> tuple:
    try:
        return tuple(
            sorted((str(p), p.stat().st_mtime_ns) for d in directories for p in d.iterdir())
        )
    except OSError:
        return ()


_LOADED: dict[tuple, Classifier] = {}


def _classifier(directory: Path, stamp: tuple, terms: Contract) -> Classifier:
    """Build a classifier once per directory state: apps in one process (tests) share it."""
    from bot.triage.classify import load_classifier

    key = (str(directory), stamp)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = load_classifier(directory, terms=terms)
    return _LOADED[key]


class Content:
    """Holds the last good contract, classifier and replies; `errors` lists what failed to load.
    Until a contract has loaded, `BUILT_IN` (the critical intents) stands in, there is no
    classifier, and reply files are read without knowing the intents."""

    def __init__(self, intents_dir: Path, responses_dir: Path, check_every: float = 2.0) -> None:
        self.intents_dir = Path(intents_dir)
        self.responses_dir = Path(responses_dir)
        self.check_every = check_every
        self.contract: Contract = BUILT_IN
        self.contract_read = False  # whether a contract file was ever read
        self.classifier: Classifier | None = None
        self.replies: Replies | None = None
        self.interpreters: dict[str, str] = {}  # interpreter line per language without replies
        self.errors: list[str] = []
        self._stamp: tuple = ()
        self._checked = 0.0
        self._lock = threading.Lock()
        self.load()

    def load(self) -> None:
        """Load both directories; on an error keep what was loaded before and log file and line."""
        errors = []
        stamp = _stamp(self.intents_dir, self.responses_dir)
        terms = None
        try:
            terms = load_contract(contract_file(self.intents_dir))
            self.contract, self.contract_read = terms, True
        except (OSError, ValueError) as exc:  # the classifier, too, stays the last good one
            errors.append(f"contract: {exc}")
        try:
            if terms is not None:
                self.classifier = _classifier(self.intents_dir, stamp, terms)
        except Exception as exc:  # a data file, the head or the encoder: keep the last good one
            errors.append(f"classifier: {exc}")
        try:
            intents = self.contract.intents if self.contract_read else None
            self.replies = load_responses(self.responses_dir, intents)
        except (DataError, OSError) as exc:
            errors.append(str(exc))
        try:
            self.interpreters = load_interpreter_lines(self.responses_dir)
        except (DataError, OSError) as exc:
            errors.append(str(exc))
        for error in errors:
            log.error("data file problem, keeping the last good data: %s", error)
        self.errors = errors
        self._stamp = stamp
        self._checked = time.monotonic()

    def refresh(self) -> None:
        """Reload if a file changed since the last look (checked at most every few seconds)."""
        now = time.monotonic()
        if now - self._checked < self.check_every or not self._lock.acquire(blocking=False):
            return
        try:
            self._checked = now
            if _stamp(self.intents_dir, self.responses_dir) != self._stamp:
                self.load()
        finally:
            self._lock.release()
