"""Classifier speed on one core: free texts and bare keywords, beside the encoder's own cost.

    .venv/bin/python bench/classify.py [N]

Texts are distinct (no repeats, so no cache helps): N everyday and labelled texts from eval/,
and every keyword of intents/keywords.yaml written a few ways ("HELP", "help!", "Hlep"); then
the longest bodies Twilio sends (1,600 characters), which must not slow the typo matcher.
For each free text the encoder alone and the whole classify are timed back to back, so
"around the encoder" (keywords, language, head, decision) is measured in the same run.
Then two gunicorn workers (as the Procfile runs them) answer a few messages each and their
resident and proportional memory is printed: the 4-bit weights are memory-mapped and shared.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def distinct_texts(limit: int) -> list[str]:
    seen, out = set(), []
    for path in sorted((ROOT / "eval").rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.loads(line)["text"]
            if text not in seen:
                seen.add(text)
                out.append(text)
    step = max(1, len(out) // limit)
    return out[::step][:limit]


def keyword_texts() -> list[str]:
    from bot.triage.keywords import Keywords

    words = [k.word for k in Keywords().words.values()]
    out = set()
    for w in words:
        out |= {
            w,
            w.upper(),
            w.title(),
            w + "!",
            w.upper() + ".",
            " " + w + " ",
            w + "?",
            w + " please",
            w.upper() + " PLS",
        }
        if len(w) >= 4:
            out.add(w[0] + w[2] + w[1] + w[3:])  # a swapped pair
    return sorted(out)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def memory_of_workers() -> list[tuple[int, int, int]]:
    """(pid, RSS KB, PSS KB) of each gunicorn worker after it answered a few messages."""
    from bench.common import PUBLIC, TOKEN, Gunicorn, _one, signed_request, sms_params, start_valkey

    with tempfile.TemporaryDirectory() as tmp:
        valkey = start_valkey(Path(tmp))
        env = {
            "REDIS_URL": valkey.url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "PUBLIC_URL": PUBLIC,
            "DATA_DIR": tmp,
            "LOG_LEVEL": "WARNING",
        }
        server = Gunicorn("app:app", env, Path(tmp) / "gunicorn.log").start()
        try:
            for n in range(40):
                _one(server.port, signed_request(server.port, sms_params(n, 40)))
            pid = server.process.pid
            workers = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
            out = []
            for pid in workers:
                fields = dict(
                    line.split(":", 1)
                    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
                )
                out.append((pid, int(fields["Rss"].split()[0]), int(fields["Pss"].split()[0])))
            return out
        finally:
            server.stop()
            valkey.stop()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from bot.triage.classify import default_classifier

    started = time.perf_counter()
    clf = default_classifier()
    clf.classify("warm up the encoder and the language model")
    load_ms = (time.perf_counter() - started) * 1000
    texts = [t for t in distinct_texts(n) if clf.keywords.find(t) is None]
    encoder_ms, classify_ms = [], []
    for text in texts:
        t0 = time.perf_counter()
        clf.encoder.encode([text])
        t1 = time.perf_counter()
        clf.classify(text)
        t2 = time.perf_counter()
        encoder_ms.append((t1 - t0) * 1000)
        classify_ms.append((t2 - t1) * 1000)
    around = [c - e for c, e in zip(classify_ms, encoder_ms, strict=True)]
    keywords = [t for t in keyword_texts() if clf.keywords.find(t)]
    t0 = time.perf_counter()
    for text in keywords:
        clf.classify(text)
    keyword_s = time.perf_counter() - t0

    share = statistics.mean(around) / statistics.mean(encoder_ms)
    print(f"load                  {load_ms:.0f} ms (encoder, head, keywords, language model)")
    print(f"free texts            {len(texts)} distinct, one core, one at a time")
    print(
        f"  classify            {1000 / statistics.mean(classify_ms):6.1f} msgs/s  "
        f"p50 {pct(classify_ms, 0.5):6.1f} ms  p99 {pct(classify_ms, 0.99):6.1f} ms"
    )
    print(
        f"  encoder alone       {1000 / statistics.mean(encoder_ms):6.1f} msgs/s  "
        f"p50 {pct(encoder_ms, 0.5):6.1f} ms  p99 {pct(encoder_ms, 0.99):6.1f} ms"
    )
    print(
        f"  around the encoder  mean {statistics.mean(around):.2f} ms  "
        f"p99 {pct(around, 0.99):.2f} ms  = {share:.1%} of the encoder's cost"
    )
    print(
        f"keywords              {len(keywords)} distinct, {len(keywords) / keyword_s:,.0f} "
        f"msgs/s  ({keyword_s / len(keywords) * 1e6:.0f} us each)"
    )
    # the longest bodies Twilio sends (1,600 characters): one word, and a word repeated
    for name, text in (("one 1,600-letter word", "HELP" * 400), ("a word x 320", "help " * 320)):
        t0 = time.perf_counter()
        clf.classify(text)
        print(f"worst case            {name}: {(time.perf_counter() - t0) * 1000:.1f} ms")
    if os.environ.get("SKIP_MEMORY"):
        return
    for pid, rss, pss in memory_of_workers():
        print(
            f"gunicorn worker {pid}: resident {rss / 1024:.0f} MB, "
            f"proportional {pss / 1024:.0f} MB (shared pages split between processes)"
        )
    print(
        f"free_p99_ms={pct(classify_ms, 0.99):.1f} around_share={share:.3f} "
        f"keywords_per_s={len(keywords) / keyword_s:.0f}"
    )


if __name__ == "__main__":
    main()
