"""Labelled examples on disk: reading them, and the key that tells two texts are the same."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_NON_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Example:
    """One labelled message; `source` is `file:line`."""

    text: str
    intent: str
    language: str | None
    source: str
    id: str | None = None


def same_text_key(text: str) -> str:
    """Casefolded, accent-free, punctuation-free: two texts with one key are the same message."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", plain).split())


def read_jsonl(path: Path) -> Iterator[Example]:
    """Examples of one JSONL file; a bad line raises ValueError naming file and line."""
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text, intent = row["text"], row["intent"]
                if not isinstance(text, str) or not isinstance(intent, str):
                    raise ValueError("text and intent must be strings")
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: {exc}") from None
            yield Example(text, intent, row.get("language"), f"{path}:{number}", row.get("id"))


def read_tree(directory: Path) -> list[Example]:
    """Every example of every `*.jsonl` under `directory`, in a stable order."""
    return [ex for path in sorted(Path(directory).rglob("*.jsonl")) for ex in read_jsonl(path)]


def overlap(train: list[Example], evaluation: list[Example]) -> list[tuple[Example, Example]]:
    """Pairs (training, evaluation) whose texts are the same message."""
    seen = {same_text_key(ex.text): ex for ex in train}
    return [(seen[k], ex) for ex in evaluation if (k := same_text_key(ex.text)) in seen]
