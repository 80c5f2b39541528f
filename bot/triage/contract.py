"""The triage contract loaded from `data/contract.yaml`: intents, precedence, priorities."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.datafiles import load_file
from bot.schemas import CONTRACT

CONTRACT_FILE = Path(__file__).resolve().parents[2] / "data" / "contract.yaml"


@dataclass(frozen=True)
class Contract:
    """Intents in precedence order, the priority of each, and which are critical."""

    intents: tuple[str, ...]
    priority: dict[str, str]
    priorities: tuple[str, ...]  # most urgent first

    @property
    def critical(self) -> frozenset[str]:
        """Intents whose priority is the most urgent one."""
        return frozenset(i for i in self.intents if self.priority[i] == self.priorities[0])

    def higher(self, a: str, b: str) -> str:
        """The more urgent of two priorities."""
        return min(a, b, key=self.priorities.index)


def load_contract(path: Path = CONTRACT_FILE) -> Contract:
    """Read and check the contract file; ValueError names what is wrong (DataError, with the
    line, for a key twice, an unknown key, a wrong type or an intent listed twice)."""
    doc = load_file(Path(path), CONTRACT)
    priorities = tuple(doc["priorities"])
    intents = tuple(entry["name"] for entry in doc["intents"])
    priority = {entry["name"]: entry["priority"] for entry in doc["intents"]}
    if bad := sorted(i for i, p in priority.items() if p not in priorities):
        raise ValueError(f"{path}: unknown priority for {', '.join(bad)}")
    if "unknown" not in intents:
        raise ValueError(f"{path}: the contract needs an `unknown` intent")
    return Contract(intents, priority, priorities)


@cache
def contract() -> Contract:
    """The project's contract, read once per process."""
    return load_contract()
