"""Scale-out: two gunicorn instances (the Procfile's command) on one Redis behave as one line.

Behaviour only: how fast they are is measured by bench/load.py, outside pytest."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from bot import accounts, store
from tests.helpers import (
    AUTH_TOKEN,
    HOTLINE,
    PASSWORD,
    inbound,
    messages,
    post_sms_over_http,
    reply,
)
from tests.servers import Gunicorn

pytestmark = pytest.mark.slow
PUBLIC = "http://line.invalid"  # both instances sit behind one public address


@pytest.fixture
def instances(valkey, redis_client, tmp_path: Path) -> Iterator[list[str]]:
    env = {
        "REDIS_URL": valkey.url,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PUBLIC_URL": PUBLIC,
        "SECRET_KEY": "shared-secret",
        "DATA_DIR": str(tmp_path / "data"),
        "WEB_CONCURRENCY": "1",
    }
    accounts.create(redis_client, "alice", PASSWORD)
    accounts.create(redis_client, "bob", PASSWORD)
    with ExitStack() as stack:
        servers = [
            stack.enter_context(Gunicorn("app:app", env, tmp_path / "gunicorn.log"))
            for _ in range(2)
        ]
        yield [server.url for server in servers]


def text_in(base: str, sender: str, body: str) -> requests.Response:
    return post_sms_over_http(base, PUBLIC, body, sender)


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
    assert HOTLINE in reply(text_in(a, sender, "he is going to hurt me"))

    bob = operator(b, "bob")
    rows = bob.get(f"{b}/console/api/queue", timeout=10).json()["rows"]
    (row,) = [r for r in rows if r["number"].endswith("0123")]

    alice = operator(a, "alice")
    token = csrf(alice, f"{a}/console/")
    assert alice.post(
        f"{a}/console/c/{row['ref']}/claim", data={"csrf_token": token}, timeout=10
    ).ok
    token = csrf(bob, f"{b}/console/")
    page = bob.post(f"{b}/console/c/{row['ref']}/claim", data={"csrf_token": token}, timeout=10)
    assert "alice already holds this conversation" in page.text
    assert store.conversation(redis_client, f"sms:{sender}")["claimed_by"] == "alice"
    # held by an operator: the bot on the other instance stays quiet for a non-critical message
    assert messages(text_in(b, sender, "thank you")) == []


def test_every_message_answered_by_either_instance_is_stored_once(instances, redis_client):
    """Messages from 20 people, 4 each, sent 8 at a time and alternating between the two
    instances: every one is answered, and every one is in its person's transcript, in order
    per person, exactly once."""
    senders = [f"+1555667{n:04d}" for n in range(20)]
    sent = {s: [f"i need help, message {k} of 4" for k in range(4)] for s in senders}

    def person(n: int) -> list[str]:
        sender = senders[n]
        return [
            reply(text_in(instances[(n + k) % 2], sender, body))
            for k, body in enumerate(sent[sender])
        ]

    with ThreadPoolExecutor(8) as pool:
        answers = dict(zip(senders, pool.map(person, range(len(senders))), strict=True))
    assert {s: [HOTLINE in a for a in got] for s, got in answers.items()} == {
        s: [True] * 4 for s in senders
    }
    assert {s: inbound(redis_client, s) for s in senders} == sent
