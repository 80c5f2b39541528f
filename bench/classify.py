"""Classifier speed: messages per second over dev.jsonl + the SMS Spam Collection, on one core.

Also prints the cost of one rapidfuzz `process.extractOne` of a message over the same phrase
list (the naive "scan every phrase" design) as the figure to beat.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("SHARED_DATA", ROOT.parent / "shared" / "data"))


def load_texts() -> list[str]:
    """Message bodies of dev.jsonl and the spam collection."""
    texts = []
    dev = SHARED / "dev.jsonl"
    if dev.exists():
        texts += [json.loads(line)["text"] for line in dev.read_text().splitlines() if line.strip()]
    spam = SHARED / "sms_spam_collection.tsv"
    if spam.exists():
        lines = spam.read_text(encoding="utf-8", errors="replace").splitlines()[1:]
        texts += [line.split("\t", 1)[1] for line in lines if "\t" in line]
    return texts


def main() -> None:
    from rapidfuzz import fuzz, process

    from bot.classify import REPO_INTENTS, Classifier
    from bot.language import detect_language
    from bot.normalise import normalise

    texts = load_texts()
    t0 = time.perf_counter()
    clf = Classifier.from_directory(REPO_INTENTS)
    load_s = time.perf_counter() - t0
    detect_language("warm up the language model")

    # CPU time of this process, best of three (as timeit does): other work on a shared machine
    # does not count against us. Each cold pass uses a fresh typo cache.
    cold = warm = float("inf")
    for _ in range(3):
        fresh = Classifier(clf.lexicon, None if os.environ.get("NO_MODEL") else clf.model)
        t0 = time.process_time()
        for text in texts:
            fresh.classify(text)
        cold = min(cold, time.process_time() - t0)
        t0 = time.process_time()
        for text in texts:
            fresh.classify(text)
        warm = min(warm, time.process_time() - t0)

    phrases = [" ".join(p.tokens) for ps in clf.lexicon.by_first.values() for p in ps]
    sample = [normalise(t) for t in texts[:300]]
    base = {}
    for name, scorer in (("WRatio", fuzz.WRatio), ("ratio", fuzz.ratio)):
        t0 = time.process_time()
        for text in sample:
            process.extractOne(text, phrases, scorer=scorer, processor=None)
        base[name] = (time.process_time() - t0) / len(sample)

    n = len(texts)
    per_msg = cold / n
    print(f"messages                {n}")
    print(f"load intents/           {load_s * 1000:.0f} ms ({len(phrases)} phrases)")
    print(f"classify, first pass    {n / cold:,.0f} msgs/s ({per_msg * 1e6:.0f} us/msg, CPU time)")
    print(f"classify, second pass   {n / warm:,.0f} msgs/s (typo cache warm)")
    for name, cost in base.items():
        print(f"extractOne {name:<8} one message over all phrases: {cost * 1e6:,.0f} us "
              f"(classify is {cost / per_msg:.1f}x faster)")


if __name__ == "__main__":
    main()
