"""What is wrong right now, in a short sentence per part, for the log and `/healthz`."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class Faults:
    """Per-process: each worker names what it sees (`set`) and what recovered (`clear`)."""

    def __init__(self) -> None:
        self._reasons: dict[str, str] = {}

    def set(self, part: str, reason: str) -> None:
        """Record what is wrong with `part` (logged when the reason is new)."""
        if self._reasons.get(part) != reason:
            log.error("%s: %s", part, reason)
        self._reasons[part] = reason

    def clear(self, part: str) -> None:
        """Forget `part`'s fault (logged as recovered if it had one)."""
        if self._reasons.pop(part, None) is not None:
            log.warning("%s: recovered", part)

    def reasons(self) -> dict[str, str]:
        """A copy of every current fault, part -> reason."""
        return dict(self._reasons)

    def __contains__(self, part: str) -> bool:
        return part in self._reasons
