"""Shared by the webhook and load benchmarks: a real Valkey, gunicorn as the Procfile runs it,
a bare Flask app to compare with, pre-signed Twilio requests and a fast raw-socket client.

Gunicorn's sync workers close the connection after each reply, so the client opens one TCP
connection per request (as Twilio does) from several processes with blocking threads.
"""

from __future__ import annotations

import itertools
import multiprocessing
import socket
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response
from twilio.request_validator import RequestValidator

from tests.servers import Gunicorn, ValkeyProcess

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-auth-token"
PUBLIC = "http://bench.invalid"
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>ok</Message></Response>'


def _distinct_bodies() -> list[str]:
    """Distinct message texts (no repeat, so no cache helps): the evaluation sets' and the
    everyday texts', one in ten a bare keyword as real traffic has them."""
    import json

    seen: dict[str, None] = {}
    for path in sorted((ROOT / "eval").rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            seen.setdefault(json.loads(line)["text"][:320])
    texts = list(seen)
    keywords = ["HELP", "STOP", "INFO", "hlep", "START", "Help!", "ayuda", "stop please"]
    return [keywords[i // 10 % len(keywords)] if i % 10 == 9 else t for i, t in enumerate(texts)]


BODIES = _distinct_bodies()

bare = Flask("bare")


@bare.post("/sms")
def bare_sms() -> Response:
    """The floor: a Flask endpoint that answers constant TwiML under the same server."""
    return Response(TWIML, mimetype="text/xml")


def start_valkey(directory: Path) -> ValkeyProcess:
    """A real valkey-server with append-only persistence (fsync every second), as deployed."""
    return ValkeyProcess(directory, appendfsync="everysec").start()


def signed_request(port: int, params: dict[str, str]) -> bytes:
    """Raw HTTP bytes of a Twilio-signed POST /sms (signed for PUBLIC_URL)."""
    body = urlencode(params).encode()
    signature = RequestValidator(TOKEN).compute_signature(f"{PUBLIC}/sms", params)
    head = (
        f"POST /sms HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def sms_params(n: int, numbers: int, area: str = "555") -> dict[str, str]:
    """The n-th message: from one of `numbers` senders, a body from a realistic mix."""
    return {
        "From": f"+1{area}{n % numbers:07d}",
        "To": "+15559990000",
        "Body": BODIES[n % len(BODIES)],
        "MessageSid": f"SM{area}{n:029d}",
        "AccountSid": "AC" + "0" * 32,
    }


@dataclass
class Result:
    """What the client saw: latencies (s) of good replies, failures, wall time, client CPU."""

    name: str
    latencies: list[float] = field(default_factory=list)
    acked: list[int] = field(default_factory=list)  # indexes answered with TwiML
    errors: int = 0
    wall: float = 0.0
    client_cpu: float = 0.0  # CPU seconds the client processes used

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def add(self, other: Result, indexes: list[int]) -> None:
        """Merge a round whose request i was `indexes[i]` of the whole run."""
        self.latencies += other.latencies
        self.acked += [indexes[i] for i in other.acked]
        self.errors += other.errors
        self.wall += other.wall
        self.client_cpu += other.client_cpu

    def line(self) -> str:
        return (
            f"{self.name:<5} {self.rps:8.0f} req/s  p50 {self.pct(0.5) * 1000:6.2f} ms  "
            f"p99 {self.pct(0.99) * 1000:6.2f} ms  max {max(self.latencies or [0]) * 1000:7.2f} ms"
            f"  errors {self.errors}  (client CPU {self.client_cpu / self.wall:.0%} of a core)"
        )


def _one(port: int, raw: bytes) -> tuple[bool, float]:
    started = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), 10) as s:
            s.sendall(raw)
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
    except OSError:
        return False, time.perf_counter() - started
    data = b"".join(chunks)
    return data.startswith(b"HTTP/1.1 200") and b"<Response" in data, time.perf_counter() - started


def _client(port: int, requests: list[tuple[int, bytes]], threads: int, out) -> None:
    """One client process: `threads` blocking threads share `requests`."""
    results: list[tuple[int, bool, float]] = []
    cursor = itertools.count()
    cpu = time.process_time()

    def work() -> None:
        while (i := next(cursor)) < len(requests):
            index, raw = requests[i]
            ok, latency = _one(port, raw)
            results.append((index, ok, latency))

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.send((results, time.process_time() - cpu))
    out.close()


def hammer(name: str, port: int, requests: list[bytes], concurrency: int) -> Result:
    """Send every request with `concurrency` connections in flight, from 2 client processes."""
    procs = max(1, min(2, concurrency))
    ctx = multiprocessing.get_context("fork")
    shares = [list(enumerate(requests))[i::procs] for i in range(procs)]
    pipes, workers = [], []
    started = time.perf_counter()
    for i, share in enumerate(shares):
        receive, send = ctx.Pipe(duplex=False)
        threads = concurrency // procs + (1 if i < concurrency % procs else 0)
        worker = ctx.Process(target=_client, args=(port, share, threads, send))
        worker.start()
        pipes.append(receive)
        workers.append(worker)
    result = Result(name)
    for receive in pipes:
        rows, cpu = receive.recv()
        result.client_cpu += cpu
        for index, ok, latency in rows:
            if ok:
                result.latencies.append(latency)
                result.acked.append(index)
            else:
                result.errors += 1
    result.wall = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return result


@dataclass
class Run:
    bare: Result
    ours: Result
    lost: int
    stored: int


def compare(
    requests: int, concurrency: int, numbers: int | None = None, warmup: int = 300, rounds: int = 8
) -> Run:
    """Bare Flask and the line, each under gunicorn as the Procfile runs it, one real Valkey.

    Both servers run at once and are measured in alternating rounds, so a neighbour's load on
    this shared machine hits both alike.
    """
    numbers = numbers or max(1, requests // 5)  # at most ~5 messages per number: below the flood
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        tmpdir = Path(tmp)
        valkey = start_valkey(tmpdir)
        url = valkey.url
        env = {
            "REDIS_URL": url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "PUBLIC_URL": PUBLIC,
            "SECRET_KEY": "bench",
            "DATA_DIR": str(tmpdir / "data"),
            "LOG_LEVEL": "WARNING",
        }
        log = tmpdir / "gunicorn.log"
        servers: dict[str, Gunicorn] = {}
        try:
            for name, spec in (("bare", "bench.common:bare"), ("ours", "app:app")):
                servers[name] = Gunicorn(spec, env, log).start()
            ports = {name: server.port for name, server in servers.items()}
            results = {name: Result(name) for name in servers}
            for name, port in ports.items():
                # warm-up from other numbers, so the measured ones are fresh conversations
                hammer(
                    name,
                    port,
                    [signed_request(port, sms_params(n, numbers, "666")) for n in range(warmup)],
                    concurrency,
                )
            indexes = list(range(requests))
            for k in range(rounds):
                chunk = indexes[k::rounds]
                for name, port in ports.items():
                    raws = [signed_request(port, sms_params(n, numbers)) for n in chunk]
                    results[name].add(hammer(name, port, raws, concurrency), chunk)
            lost, stored = count_lost(url, results["ours"].acked, numbers)
        except BaseException:
            sys.stderr.write(log.read_text(errors="replace")[-4000:] if log.exists() else "")
            raise
        finally:
            for server in servers.values():
                server.stop()
            valkey.stop()
    return Run(results["bare"], results["ours"], lost, stored)


def count_lost(url: str, acked: list[int], numbers: int) -> tuple[int, int]:
    """Acknowledged messages missing from the transcripts in Redis, and how many are stored."""
    import json

    import redis

    r = redis.Redis.from_url(url)
    expected: dict[str, list[str]] = {}
    for n in acked:
        params = sms_params(n, numbers)
        expected.setdefault(params["From"], []).append(params["Body"])
    pipe = r.pipeline(transaction=False)
    senders = list(expected)
    for sender in senders:
        pipe.lrange(f"tl:log:{{sms:{sender}}}", 0, -1)
    lost = stored = 0
    for sender, rows in zip(senders, pipe.execute(), strict=True):
        inbound = [json.loads(row)["text"] for row in rows if b'"direction": "in"' in row]
        stored += len(inbound)
        lost += max(0, len(expected[sender]) - len(inbound))
    return lost, stored


def ratios(run: Run) -> tuple[float, float]:
    return run.ours.rps / run.bare.rps, run.ours.pct(0.99) / run.bare.pct(0.99)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
