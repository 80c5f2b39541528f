"""Webhook latency (issue 3): signed POST /sms under gunicorn with a real Valkey vs bare Flask.

    python bench/webhook.py [--requests 5000] [--concurrency 16]

Target: our p99 at most 3x the bare endpoint's p99, measured in the same run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import compare, ratios  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    try:
        run = compare(args.requests, args.concurrency)
    except (OSError, SystemExit) as exc:
        print(f"webhook benchmark could not run: {exc}", file=sys.stderr)
        return 2
    if not run.ours.latencies or not run.bare.latencies:
        print("no successful requests", file=sys.stderr)
        return 2
    for result in (run.bare, run.ours):
        print(result.line())
    throughput, p99 = ratios(run)
    verdict = "meets" if p99 <= 3 else "misses"
    print(f"p99 ratio {p99:.2f} ({verdict} the 3x target); requests/s ratio {throughput:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
