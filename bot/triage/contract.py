"""The triage contract loaded from `intents/contract.yaml`: intents, precedence, priorities.

The contract lives beside the keywords and language names, so one directory (`INTENTS_DIR`)
says which intents exist and how each is recognised by rule. An intent the trained head does
not know is read by keyword alone (bot/triage/classify.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.datafiles import load_file
from bot.schemas import CONTRACT

INTENTS_DIR = Path(__file__).resolve().parents[2] / "intents"
CONTRACT_NAME = "contract.yaml"
# The contract's four priorities, most urgent first. The queue, its pages and the statistics
# rank by them, so a contract file must list exactly these (its intents are free).
PRIORITIES = ("critical", "high", "normal", "low")


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


def higher_priority(a: str, b: str) -> str:
    """The more urgent of two priorities (an unknown one, say from old stored data, counts as
    normal)."""
    normal = PRIORITIES.index("normal")

    def rank(p: str) -> int:
        return PRIORITIES.index(p) if p in PRIORITIES else normal

    return a if rank(a) <= rank(b) else b


# Stands in while no contract file can be read: the critical intents the safety rules need (a
# critical message answered first and always, never throttled, alerting a holding operator).
BUILT_IN = Contract(
    ("emergency", "self_harm", "unknown"),
    {"emergency": "critical", "self_harm": "critical", "unknown": "normal"},
    PRIORITIES,
)


def contract_file(intents_dir: Path) -> Path:
    """Where the contract of an intents directory is."""
    return Path(intents_dir) / CONTRACT_NAME


def load_contract(path: Path) -> Contract:
    """Read and check a contract file; ValueError names what is wrong (DataError, with the
    line, for a key twice, an unknown key, a wrong type or an intent listed twice)."""
    doc = load_file(Path(path), CONTRACT)
    priorities = tuple(doc["priorities"])
    if priorities != PRIORITIES:
        raise ValueError(f"{path}: priorities must be {', '.join(PRIORITIES)}, in that order")
    intents = tuple(entry["name"] for entry in doc["intents"])
    priority = {entry["name"]: entry["priority"] for entry in doc["intents"]}
    if bad := sorted(i for i, p in priority.items() if p not in priorities):
        raise ValueError(f"{path}: unknown priority for {', '.join(bad)}")
    if "unknown" not in intents:
        raise ValueError(f"{path}: the contract needs an `unknown` intent")
    return Contract(intents, priority, priorities)


def default_intents_dir() -> Path:
    """`$INTENTS_DIR`, else the repository's `intents/`."""
    from bot.config import Config

    return Path(Config().INTENTS_DIR or INTENTS_DIR)


@cache
def _contract_of(intents_dir: Path) -> Contract:
    return load_contract(contract_file(intents_dir))


def contract(intents_dir: Path | None = None) -> Contract:
    """The contract of `intents_dir` (default: `$INTENTS_DIR`, else `intents/`), read once."""
    return _contract_of(Path(intents_dir or default_intents_dir()).resolve())
