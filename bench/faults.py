"""Faults (issue 12): signed SMS webhooks to gunicorn (the Procfile's settings) while Redis is
killed and restarted, frozen, and while Twilio retries.

    python bench/faults.py [--rate 12] [--seconds 8]

Each scenario sends a steady stream of distinct messages (one in five retried by Twilio with
the same MessageSid), waits for `/healthz` to report an empty journal, then reads Redis:
- lost: a message that got a reply but is not in its transcript;
- late: a reply that took over 1 s, was not 200 TwiML, or lacked the hotline number;
- duplicated: a message stored more than once.
Prints a line per scenario and ends with `lost=L late=T duplicated=D` (target: all 0).
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bench.common import PUBLIC, TOKEN  # noqa: E402
from bot import store  # noqa: E402
from tests.servers import Gunicorn, ValkeyProcess  # noqa: E402

HOTLINE = "1-888-373-7888"
LATE = 1.0  # seconds
CANDIDATES = [
    "HELP",
    "i need help",
    "my boss took my passport",
    "he is going to hurt me",
    "where can i get help",
    "can someone help me please",
    "ayuda por favor",
    "they make me work and dont pay me",
    "i cant leave the house",
    "is this the hotline",
]


@dataclass
class Sent:
    body: str
    sender: str
    sid: str
    answers: list[tuple[float, int, str]] = field(default_factory=list)  # latency, status, text


def post(port: int, params: dict[str, str]) -> tuple[float, int, str]:
    body = urlencode(params)
    signature = RequestValidator(TOKEN).compute_signature(f"{PUBLIC}/sms", params)
    started = time.perf_counter()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        connection.request(
            "POST",
            "/sms",
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
        )
        response = connection.getresponse()
        data = response.read()
        connection.close()
    except OSError:
        return time.perf_counter() - started, 0, ""
    latency = time.perf_counter() - started
    try:
        text = " ".join(m.text or "" for m in ET.fromstring(data).iter("Message"))
    except ET.ParseError:
        text = ""
    return latency, response.status, text


def params(message: Sent) -> dict[str, str]:
    return {
        "From": message.sender,
        "To": "+15559990000",
        "Body": message.body,
        "MessageSid": message.sid,
        "AccountSid": "AC" + "0" * 32,
    }


def stream(
    port: int,
    messages: list[Sent],
    seconds: float,
    retry_every: int,
    events: list[tuple[float, Callable[[], None]]],
) -> None:
    """Send `messages` evenly over `seconds`; every `retry_every`-th again with the same sid
    0.3 s later (as Twilio does after a slow or failed answer); run `events` at their times."""
    gap = seconds / len(messages)
    started = time.monotonic()
    timers = [threading.Timer(at, action) for at, action in events]
    for timer in timers:
        timer.start()
    with ThreadPoolExecutor(32) as pool:
        for n, message in enumerate(messages):
            time.sleep(max(0.0, started + n * gap - time.monotonic()))
            copies = 2 if retry_every and n % retry_every == 0 else 1
            for copy in range(copies):

                def send(message: Sent = message, delay: float = 0.3 * copy) -> None:
                    time.sleep(delay)
                    message.answers.append(post(port, params(message)))

                pool.submit(send)
    for timer in timers:
        timer.join()


def settle(port: int, timeout: float = 60) -> bool:
    """Wait until /healthz is 200 (Redis answers, the journal is empty)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.25)
    return False


def count(r: redis.Redis, messages: list[Sent]) -> tuple[int, int, int]:
    """(lost, late, duplicated) for `messages`, from Redis and the replies seen."""
    stored: Counter[tuple[str, str]] = Counter()
    for sender in {m.sender for m in messages}:
        for entry in store.transcript(r, f"sms:{sender}"):
            if entry.direction == "in":
                stored[(sender, entry.text)] += 1
    lost = late = duplicated = 0
    for m in messages:
        answered = [a for a in m.answers if a[1] == 200]
        late += sum(
            1
            for latency, status, text in m.answers
            if latency > LATE or status != 200 or HOTLINE not in text
        )
        if answered and stored[(m.sender, m.body)] == 0:
            lost += 1
        duplicated += stored[(m.sender, m.body)] > 1
    return lost, late, duplicated


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=12, help="messages per second")
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="faults-"))
    valkey = ValkeyProcess(work / "valkey").start()  # fsync always: killed, it loses nothing
    env = {
        "REDIS_URL": valkey.url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_URL": PUBLIC,
        "SECRET_KEY": "bench",
        "DATA_DIR": str(work / "data"),
        "UPKEEP_SECONDS": "1",
    }
    server = Gunicorn("app:app", env, work / "gunicorn.log").start()
    port = server.port
    r = redis.Redis.from_url(valkey.url)
    try:
        bodies = [
            b
            for b in CANDIDATES
            if HOTLINE in post(port, params(Sent(f"{b} (0)", "+15550000000", "SMx")))[2]
        ]
        total = [0, 0, 0]
        n = int(args.rate * args.seconds)
        s = args.seconds

        def kill() -> None:  # SIGKILL; start() brings it back on the same port and directory
            valkey.stop(kill=True)

        def freeze() -> None:
            os.kill(valkey.process.pid, signal.SIGSTOP)

        def thaw() -> None:
            os.kill(valkey.process.pid, signal.SIGCONT)

        scenarios: list[tuple[str, int, list[tuple[float, Callable[[], None]]]]] = [
            ("redis killed, restarted", 5, [(s * 0.25, kill), (s * 0.6, valkey.start)]),
            ("redis frozen 4 s", 5, [(s * 0.25, freeze), (s * 0.25 + 4, thaw)]),
            ("twilio retries, every one", 1, []),
        ]
        for number, (name, retry_every, events) in enumerate(scenarios, 1):
            messages = [
                Sent(
                    f"{bodies[i % len(bodies)]} ({number}.{i})",
                    f"+1555{number}{i % 97:06d}",
                    f"SM{number}{i:031d}",
                )
                for i in range(n)
            ]
            stream(port, messages, s, retry_every, events)
            settled = settle(port)
            lost, late, duplicated = count(r, messages)
            total = [total[0] + lost, total[1] + late, total[2] + duplicated]
            latencies = sorted(a[0] for m in messages for a in m.answers)
            print(
                f"{name:<28} {len(messages)} messages, "
                f"{sum(len(m.answers) for m in messages)} requests, "
                f"max reply {latencies[-1] * 1000:.0f} ms, settled={settled}: "
                f"lost={lost} late={late} duplicated={duplicated}"
            )
    finally:
        server.stop()
        if valkey.process.poll() is None:
            os.kill(valkey.process.pid, signal.SIGCONT)  # if it was left frozen
        valkey.stop(kill=True)
    print(f"lost={total[0]} late={total[1]} duplicated={total[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
