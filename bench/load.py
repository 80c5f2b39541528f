"""Load test (issue 7): signed SMS webhooks under gunicorn with the Procfile's settings.

    python bench/load.py --requests 20000 --concurrency 16

Prints requests/s and p50/p99/max latency for the line and for a bare Flask endpoint on the
same server in the same run, counts the acknowledged messages missing from Redis, and ends with
`throughput_ratio=R p99_ratio=Q lost=L` (targets: R >= 0.35, Q <= 3, L = 0).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import compare, ratios  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    try:
        run = compare(args.requests, args.concurrency)
    except (OSError, SystemExit) as exc:
        print(f"load test could not run: {exc}", file=sys.stderr)
        return 2
    print(f"{args.requests} signed POST /sms, {args.concurrency} connections, Procfile gunicorn")
    print(run.bare.line())
    print(run.ours.line())
    print(f"stored {run.stored} of {len(run.ours.acked)} acknowledged messages in Redis")
    if not run.ours.latencies or not run.bare.latencies:
        print("no successful requests", file=sys.stderr)
        return 2
    throughput, p99 = ratios(run)
    print(f"throughput_ratio={throughput:.2f} p99_ratio={p99:.2f} lost={run.lost}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
