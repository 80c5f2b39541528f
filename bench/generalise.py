"""Leave-one-set-out: does the learned backstop catch unseen wording without false alarms?

For each labelled set (dev.jsonl, tests/data/paraphrases.jsonl, tests/data/fresh*.jsonl) the
model is trained on every OTHER set plus the even-numbered half of the SMS Spam Collection
(label `unknown`), then the held-out set is classified by the phrases alone and by phrases +
model. The odd half of the collection, never trained on, counts false alarms.

The phrases (intents/*.yaml) were tuned on all these sets, so "lexicon" figures are optimistic;
the column to read is the change the model makes on a set it has not seen.

    python bench/generalise.py             # the table for the classifier's current settings
    python bench/generalise.py --sweep     # also a grid of thresholds (pooled figures only)
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("SHARED_DATA", ROOT.parent / "shared" / "data"))

from bot.classify import CRITICAL, REPO_INTENTS, Classifier  # noqa: E402
from bot.lexicon import load_lexicon  # noqa: E402
from bot.model import Model  # noqa: E402

ALARM = {"help", "report", "talk_to_person"}


def labelled_sets() -> dict[str, list[dict]]:
    """Every labelled set by name, in a fixed order."""
    paths = [SHARED / "dev.jsonl", ROOT / "tests/data/paraphrases.jsonl"]
    fresh = sorted([*(ROOT / "tests/data").glob("fresh*.jsonl"),
                    *(ROOT / "tests/data/untuned").glob("*.jsonl")],
                   key=lambda p: int(p.stem.removeprefix("fresh")))
    out = {}
    for path in paths + fresh:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()]
        out[path.stem] = rows
    return out


def spam_halves() -> tuple[list[str], list[str]]:
    """The collection's texts at even and at odd positions (0-based, header skipped)."""
    lines = (SHARED / "sms_spam_collection.tsv").read_text(
        encoding="utf-8", errors="replace").splitlines()
    texts = [line.split("\t", 1)[1] for line in lines[1:] if "\t" in line]
    return texts[0::2], texts[1::2]


def score(clf: Classifier, rows: list[dict]) -> dict[str, int]:
    """Counts: messages, right intents, critical true/false positives and misses."""
    n = ok = tp = fp = fn = 0
    for row in rows:
        got = clf.classify(row["text"], conversation_language=row.get("conversation_language"))
        gold = row["intent"]
        n += 1
        ok += got.intent == gold
        g, p = gold in CRITICAL, got.intent in CRITICAL
        tp += g and p
        fp += p and not g
        fn += g and not p
    return {"n": n, "ok": ok, "tp": tp, "fp": fp, "fn": fn}


def noise(clf: Classifier, texts: list[str]) -> tuple[int, int]:
    """How many everyday texts are flagged critical, and how many help/report/talk."""
    crit = alarm = 0
    for text in texts:
        intent = clf.classify(text).intent
        crit += intent in CRITICAL
        alarm += intent in ALARM
    return crit, alarm


def figures(c: dict[str, int]) -> str:
    acc = c["ok"] / c["n"]
    rec = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
    prec = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
    return f"{acc:6.3f} {rec:6.3f} {prec:6.3f}"


def add(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {k: a.get(k, 0) + v for k, v in b.items()}


SETTINGS = ("model_min", "model_min_critical", "critical_needs_cue", "upgrade_min")


def configure(clf: Classifier, config: dict) -> None:
    for key, value in config.items():
        if key in SETTINGS:
            setattr(clf, key, value)
        elif clf.model is not None:
            setattr(clf.model, key, value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="also try a grid of settings")
    args = parser.parse_args()
    sets = labelled_sets()
    even, odd = spam_halves()
    lexicon = load_lexicon(REPO_INTENTS)
    alone = Classifier(lexicon)
    noise_examples = [(t, "unknown") for t in even]
    folds: dict[str, Classifier] = {}
    for name in sets:
        train = [(r["text"], r["intent"]) for other, rows in sets.items() if other != name
                 for r in rows]
        folds[name] = Classifier(lexicon, Model(train + noise_examples))
    everything = [(r["text"], r["intent"]) for rows in sets.values() for r in rows]
    full = Classifier(lexicon, Model(everything + noise_examples))

    print(f"{'set':<12}{'n':>5}   lexicon alone: acc  c-rec  c-prec   + model: acc  c-rec"
          "  c-prec")
    pool_a: dict[str, int] = {}
    pool_b: dict[str, int] = {}
    for name, rows in sets.items():
        a, b = score(alone, rows), score(folds[name], rows)
        pool_a, pool_b = add(pool_a, a), add(pool_b, b)
        print(f"{name:<12}{len(rows):>5}   {figures(a)}          {figures(b)}")
    print(f"{'pooled':<12}{pool_a['n']:>5}   {figures(pool_a)}          {figures(pool_b)}")
    held = {k: v for k, v in pool_b.items()}
    print(f"critical misses: {pool_a['fn']} -> {held['fn']}, "
          f"false criticals: {pool_a['fp']} -> {held['fp']}")
    for label, texts in (("odd half (held out)", odd), ("even half (trained)", even)):
        print(f"noise {label:<20} lexicon crit/alarm {noise(alone, texts)}   "
              f"+ model {noise(full, texts)}")

    if not args.sweep:
        return
    grid = {
        "temperature": [0.25, 0.5, 1.0],
        "prior_weight": [0.0, 1.0],
        "model_min": [0.6, 0.8, 0.9],
        "model_min_critical": [0.6, 0.8, 0.95],
        "critical_needs_cue": [True, False],
        "upgrade_min": [0.95, 2.0],
    }
    print("\npooled leave-one-set-out, odd-half noise (crit, alarm)")
    for values in itertools.product(*grid.values()):
        config = dict(zip(grid, values, strict=True))
        pool: dict[str, int] = {}
        for name, rows in sets.items():
            configure(folds[name], config)
            pool = add(pool, score(folds[name], rows))
        configure(full, config)
        crit, alarm = noise(full, odd)
        print(" ".join(f"{k}={v}" for k, v in config.items()), figures(pool),
              f"noise {crit} {alarm}", flush=True)


if __name__ == "__main__":
    main()
