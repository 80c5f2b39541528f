"""Redis frozen, killed, its files damaged or unwritable: every texter is answered within a
second with the hotline, and every message answered is in Redis, once, when it is back."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests

from bot import create_app, store
from bot.embedded import ensure_server, stop_server
from tests.helpers import (
    AUTH_TOKEN,
    HOTLINE,
    inbound,
    post_sms,
    post_sms_over_http,
    reply,
)
from tests.servers import Gunicorn


def post(app, body: str, sender: str, sid: str | None = None):
    return post_sms(app.test_client(), body, sender, **({"MessageSid": sid} if sid else {}))


def health(app) -> dict:
    return app.test_client().get("/healthz").get_json()


def test_a_frozen_redis_costs_one_timeout_not_one_per_command(app_config, own_valkey):
    """Counted, not timed (bench/faults.py times the replies): while Redis is frozen, only the
    commands already in flight when it froze, and one probe per cool-down, wait for the socket
    timeout; every other command fails at once and the message goes to the journal."""
    app = create_app({**app_config, "REDIS_URL": own_valkey.url})
    circuit = app.redis.circuit
    senders = [f"+1555400{n:04d}" for n in range(64)]
    os.kill(own_valkey.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            texts = list(
                pool.map(lambda s: reply(post(app, "my boss keeps my passport", s)), senders)
            )
        probes = (time.monotonic() - started) / circuit.cooldown + 1
        assert [s for s, text in zip(senders, texts, strict=True) if HOTLINE not in text] == []
        # each message makes several Redis calls: without the breaker, 64 x several timeouts
        assert 1 <= circuit.failures <= 8 + probes
        assert health(app)["journal"] == 64
    finally:
        os.kill(own_valkey.process.pid, signal.SIGCONT)
    app.extensions["upkeep"].run_once()
    assert health(app) == {"redis": "ok", "classifier": "ok", "journal": 0}
    assert {s: inbound(app.redis, s) for s in senders} == {
        s: ["my boss keeps my passport"] for s in senders
    }
    assert len(store.queue(app.redis)) == 64


def test_twilio_retries_during_an_outage_are_stored_once(app_config, own_valkey):
    app = create_app({**app_config, "REDIS_URL": own_valkey.url})
    sender, sid = "+15554100001", "SM" + "7" * 32
    own_valkey.stop(kill=True)
    first = reply(post(app, "they took my papers", sender, sid))
    for _ in range(2):  # Twilio's retry and its fallback URL, same MessageSid
        assert HOTLINE in reply(post(app, "they took my papers", sender, sid))
    own_valkey.start()
    app.extensions["upkeep"].run_once()
    assert inbound(app.redis, sender) == ["they took my papers"]
    assert reply(post(app, "they took my papers", sender, sid)) == first  # a late retry
    assert inbound(app.redis, sender) == ["they took my papers"]


def test_a_journalled_message_stored_live_by_the_fallback_is_not_replayed_again(
    app_config, own_valkey, tmp_path: Path
):
    """The primary journals a message while Redis is down; Redis comes back and Twilio's
    fallback instance (its own DATA_DIR) stores the same MessageSid before the primary replays."""
    primary = create_app({**app_config, "REDIS_URL": own_valkey.url})
    fallback = create_app(
        {**app_config, "REDIS_URL": own_valkey.url, "DATA_DIR": str(tmp_path / "fallback")}
    )
    sender, sid = "+15554100002", "SM" + "6" * 32
    own_valkey.stop(kill=True)
    assert HOTLINE in reply(post(primary, "he took my phone and my passport", sender, sid))
    assert health(primary)["journal"] == 1
    own_valkey.start()
    assert HOTLINE in reply(post(fallback, "he took my phone and my passport", sender, sid))
    primary.extensions["upkeep"].run_once()
    assert health(primary)["journal"] == 0
    assert inbound(primary.redis, sender) == ["he took my phone and my passport"]


def test_two_workers_replay_one_journal_in_order_and_once(app_config, own_valkey):
    workers = [create_app({**app_config, "REDIS_URL": own_valkey.url}) for _ in range(2)]
    own_valkey.stop(kill=True)
    sender = "+15554200001"
    sent = [f"i need help ({n})" for n in range(12)]
    for n, text in enumerate(sent):  # one person's messages land on either worker
        assert HOTLINE in reply(post(workers[n % 2], text, sender))
    others = [f"+1555420{n:04d}" for n in range(100, 140)]
    for n, other in enumerate(others):
        post(workers[n % 2], "HELP", other)
    own_valkey.start()
    threads = [threading.Thread(target=w.extensions["upkeep"].run_once) for w in workers * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert inbound(workers[0].redis, sender) == sent
    assert {o: inbound(workers[0].redis, o) for o in others} == {o: ["HELP"] for o in others}
    assert health(workers[1])["journal"] == 0


def test_a_full_journal_still_answers_and_says_so(app_config, own_valkey):
    app = create_app({**app_config, "REDIS_URL": own_valkey.url})
    app.extensions["line"].journal.max_bytes = 12_000  # a few turns (JOURNAL_MAX_MB is >= 1)
    own_valkey.stop(kill=True)
    texts = [reply(post(app, "please help me", f"+1555430{n:04d}")) for n in range(40)]
    assert [HOTLINE in text for text in texts] == [True] * 40
    body = health(app)
    assert 0 < body["journal"] < 40 and "journal is full" in body["reason"]
    own_valkey.start()
    app.extensions["upkeep"].run_once()
    body = health(app)
    assert body["journal"] == 0 and "reason" not in body


@pytest.fixture
def data_dir(tmp_path: Path):
    yield tmp_path / "data"
    stop_server(tmp_path / "data")


def embedded_app(app_config: dict, data_dir: Path):
    return create_app({**app_config, "REDIS_URL": "", "DATA_DIR": str(data_dir)})


def valkey_pid(data_dir: Path) -> int:
    return int((data_dir / "valkey.pid").read_text().strip())


def test_the_embedded_server_is_restarted_when_it_dies(app_config, data_dir):
    app = embedded_app(app_config, data_dir)
    reply(post(app, "HELP", "+15554300001"))
    old = valkey_pid(data_dir)
    os.kill(old, signal.SIGKILL)
    time.sleep(0.2)
    assert HOTLINE in reply(post(app, "is anyone there", "+15554300001"))
    assert health(app)["redis"] == "down"
    app.extensions["upkeep"].run_once()  # the worker that notices restarts it
    assert health(app) == {"redis": "ok", "classifier": "ok", "journal": 0}
    assert valkey_pid(data_dir) != old
    assert inbound(app.redis, "+15554300001") == ["HELP", "is anyone there"]


def test_a_frozen_embedded_server_is_not_doubled(app_config, data_dir):
    app = embedded_app(app_config, data_dir)
    pid = valkey_pid(data_dir)
    os.kill(pid, signal.SIGSTOP)
    try:
        assert HOTLINE in reply(post(app, "HELP", "+15554300002"))
        app.extensions["upkeep"].run_once()
        assert valkey_pid(data_dir) == pid  # a second server on the same files would corrupt them
        body = health(app)
        assert body["redis"] == "down" and "does not answer" in body["reason"]
    finally:
        os.kill(pid, signal.SIGCONT)
    time.sleep(2.1)  # the breaker's cool-down
    app.extensions["upkeep"].run_once()
    assert inbound(app.redis, "+15554300002") == ["HELP"]


def test_a_damaged_append_only_file_is_named_and_recovers_when_fixed(app_config, data_dir):
    client = redis.Redis.from_url(ensure_server(data_dir))
    client.set("before", "1")
    client.close()
    stop_server(data_dir)
    time.sleep(0.5)
    (incr,) = (data_dir / "appendonlydir").glob("*.incr.aof")
    good = incr.read_bytes()
    incr.write_bytes(good + b"this is not the redis protocol\r\n")

    app = embedded_app(app_config, data_dir)  # boots, where gunicorn used to fail
    text = reply(post(app, "he locked me in", "+15554300003"))
    assert "911" in text and HOTLINE in text
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert "append-only file is damaged" in response.get_json()["reason"]
    assert str(data_dir) not in response.get_data(as_text=True)

    incr.write_bytes(good)  # what valkey-check-aof --fix would do
    app.extensions["upkeep"].run_once()
    assert health(app) == {"redis": "ok", "classifier": "ok", "journal": 0}
    assert inbound(app.redis, "+15554300003") == ["he locked me in"]
    assert app.redis.get("before") == b"1"


def test_an_unwritable_data_dir_still_answers_and_names_it(app_config, tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")  # tests run as root, for whom chmod blocks nothing
    config = {**app_config, "REDIS_URL": "", "DATA_DIR": str(blocker / "data"), "SECRET_KEY": ""}
    app = create_app(config)
    assert HOTLINE in reply(post(app, "HELP", "+15554300004"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert "DATA_DIR is not writable" in response.get_json()["reason"]
    assert AUTH_TOKEN not in response.get_data(as_text=True)


def test_a_web_chat_message_during_an_outage_is_kept_and_shown_once(app_config, own_valkey):
    app = create_app({**app_config, "REDIS_URL": own_valkey.url})
    client = app.test_client()
    token = client.post("/chat/api/start").get_json()["token"]
    own_valkey.stop(kill=True)
    sent = client.post(
        "/chat/api/messages", json={"token": token, "text": "i need help leaving", "since": 0}
    )
    body = sent.get_json()
    assert sent.status_code == 200 and body["stored"] is True and HOTLINE in body["reply"]
    own_valkey.start()
    app.extensions["upkeep"].run_once()
    polled = client.get(f"/chat/api/messages?token={token}&since=0").get_json()["entries"]
    assert [e["text"] for e in polled if e["from"] == "person"] == ["i need help leaving"]
    after = client.get(f"/chat/api/messages?token={token}&since={body['next']}").get_json()
    assert after["entries"] == []  # nothing shown twice


@pytest.mark.slow
def test_gunicorn_workers_restart_the_embedded_server_and_replay_by_themselves(tmp_path: Path):
    """No test calls `run_once` here: the workers' own background threads do the work."""
    public = "http://line.invalid"
    data = tmp_path / "data"
    env = {
        "REDIS_URL": "",
        "DATA_DIR": str(data),
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PUBLIC_URL": public,
        "SECRET_KEY": "s",
        "UPKEEP_SECONDS": "1",
    }

    def text(body: str, sender: str) -> str:
        return reply(post_sms_over_http(server.url, public, body, sender))

    try:
        with Gunicorn("app:app", env, tmp_path / "gunicorn.log") as server:
            assert HOTLINE in text("HELP", "+15554500001")
            os.kill(valkey_pid(data), signal.SIGKILL)
            senders = [f"+1555450{n:04d}" for n in range(2, 22)]
            unanswered = [s for s in senders if HOTLINE not in text("i need help", s)]
            assert unanswered == []
            deadline = time.monotonic() + 20
            while (health := requests.get(f"{server.url}/healthz", timeout=5)).status_code != 200:
                assert time.monotonic() < deadline, health.text
                time.sleep(0.25)
            r = redis.Redis.from_url(ensure_server(data))
            assert {s: inbound(r, s) for s in senders} == {s: ["i need help"] for s in senders}
            assert inbound(r, "+15554500001") == ["HELP"]
            r.close()
    finally:
        stop_server(data)
