"""Keep training and evaluation data apart (`python -m bot check` fails while they share a text).

    python scripts/separate.py

A text in both an untuned set and the training data leaves the training data (the untuned sets
were written blind and stay whole); a text in both a noise set and the training data leaves the
noise set (noise sets are large samples of everyday texts, a few greetings fewer changes
nothing).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bot.triage.dataset import same_text_key  # noqa: E402


def keys(paths: list[Path]) -> set[str]:
    return {
        same_text_key(json.loads(line)["text"])
        for p in paths
        for line in p.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }


def drop(path: Path, banned: set[str]) -> None:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = [line for line in lines if same_text_key(json.loads(line)["text"]) not in banned]
    if len(kept) != len(lines):
        path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: dropped {len(lines) - len(kept)}")


def main() -> None:
    train = sorted((ROOT / "data" / "train").rglob("*.jsonl"))
    untuned = sorted((ROOT / "eval" / "untuned").glob("*.jsonl"))
    noise = sorted((ROOT / "eval" / "noise").glob("*.jsonl"))
    held = keys(untuned)
    for path in train:
        drop(path, held)
    seen = keys(train)
    for path in noise:
        drop(path, seen)


if __name__ == "__main__":
    main()
