"""Scale-out: two gunicorn instances (the Procfile's command) on one Redis behave as one line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bench.common import start_gunicorn, stop
from bot import accounts, store
from bot.config import ROOT
from tests.conftest import AUTH_TOKEN, HOTLINE, sign
from tests.test_console import PASSWORD

PUBLIC = "http://line.invalid"  # both instances sit behind one public address


@pytest.fixture
def instances(valkey, redis_client, tmp_path: Path) -> Iterator[list[str]]:
    env = {
        "REDIS_URL": valkey.url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_URL": PUBLIC,
        "SECRET_KEY": "shared-secret", "DATA_DIR": str(tmp_path / "data"), "WEB_CONCURRENCY": "1",
    }
    servers = [start_gunicorn("app:app", env, tmp_path / "gunicorn.log") for _ in range(2)]
    accounts.create(redis_client, "alice", PASSWORD)
    accounts.create(redis_client, "bob", PASSWORD)
    yield [f"http://127.0.0.1:{port}" for _, port in servers]
    for process, _ in servers:
        stop(process)


def text_in(base: str, sender: str, body: str) -> requests.Response:
    params = {"From": sender, "To": "+15559990000", "Body": body}
    headers = {"X-Twilio-Signature": sign(f"{PUBLIC}/sms", params)}
    return requests.post(f"{base}/sms", data=params, headers=headers, timeout=10)


def csrf(session: requests.Session, url: str) -> str:
    html = session.get(url, timeout=10).text
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def operator(base: str, name: str) -> requests.Session:
    session = requests.Session()
    token = csrf(session, f"{base}/console/login")
    data = {"name": name, "password": PASSWORD, "csrf_token": token}
    assert session.post(f"{base}/console/login", data=data, timeout=10).ok
    return session


def test_a_message_to_one_shows_on_the_other_and_a_claim_blocks(instances, redis_client):
    a, b = instances
    sender = "+15556660123"
    assert HOTLINE in text_in(a, sender, "he is going to hurt me").text

    bob = operator(b, "bob")
    rows = bob.get(f"{b}/console/api/queue", timeout=10).json()["rows"]
    (row,) = [r for r in rows if r["number"].endswith("0123")]

    alice = operator(a, "alice")
    token = csrf(alice, f"{a}/console/")
    assert alice.post(f"{a}/console/c/{row['ref']}/claim", data={"csrf_token": token},
                      timeout=10).ok
    token = csrf(bob, f"{b}/console/")
    page = bob.post(f"{b}/console/c/{row['ref']}/claim", data={"csrf_token": token}, timeout=10)
    assert "alice already holds this conversation" in page.text
    assert store.conversation(redis_client, f"sms:{sender}")["claimed_by"] == "alice"
    # held by an operator: the bot on the other instance stays quiet for a non-critical message
    assert "<Message>" not in text_in(b, sender, "thank you").text


def test_load_benchmark_smoke():
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py"), "--requests", "200"],
        capture_output=True, text=True, timeout=180, cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "WEB_CONCURRENCY"},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    last = run.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"throughput_ratio=[\d.]+ p99_ratio=[\d.]+ lost=0", last), last
