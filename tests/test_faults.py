"""Faults: Redis killed mid-burst, Redis crash-restarted, a broken data file at start."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot import create_app, store
from bot.config import ROOT
from tests.conftest import HOTLINE, reply, sign
from tests.servers import ValkeyProcess


@pytest.fixture
def own_valkey(tmp_path: Path):
    """A Valkey of this test's own (fsync every second, as deployed) that it may kill."""
    server = ValkeyProcess(tmp_path / "valkey", None, "--appendfsync", "everysec").start()
    yield server
    server.stop(kill=True)


def post(app, body: str, sender: str):
    params = {"From": sender, "To": "+15559990000", "Body": body}
    headers = {"X-Twilio-Signature": sign("http://localhost/sms", params)}
    return app.test_client().post("/sms", data=params, headers=headers)


def burst(app, senders: list[str], body: str = "HELP") -> list[str]:
    """Post one message from each sender, 8 at a time; the replies' texts."""
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda s: reply(post(app, body, s)), senders))


def inbound(r, sender: str) -> list[str]:
    return [e.text for e in store.transcript(r, f"sms:{sender}") if e.direction == "in"]


def test_redis_killed_during_a_burst_then_back(app_config, own_valkey):
    app = create_app({**app_config, "REDIS_URL": own_valkey.url})
    r = app.redis
    before = [f"+1555200{n:04d}" for n in range(40)]
    during = [f"+1555201{n:04d}" for n in range(80)]
    after = [f"+1555202{n:04d}" for n in range(40)]
    assert all(HOTLINE in text for text in burst(app, before))

    killer = threading.Timer(0.05, own_valkey.stop, kwargs={"kill": True})
    killer.start()
    texts = burst(app, during)
    killer.join()
    assert all(HOTLINE in text for text in texts)  # every person answered, Redis or not
    danger = reply(post(app, "he is going to hurt me", "+15552019999"))
    assert "911" in danger and HOTLINE in danger
    health = app.test_client().get("/healthz")
    waiting = health.get_json()["journal"]
    assert health.status_code == 503 and health.get_json()["redis"] == "down"
    assert waiting >= 1  # the outage fell inside the burst: those turns wait on local disk

    own_valkey.start()  # same port and data; the app is not restarted
    assert all(HOTLINE in text for text in burst(app, after))
    app.extensions["upkeep"].run_once()  # what each worker's background thread does every second
    assert app.test_client().get("/healthz").get_json() == {
        "redis": "ok", "classifier": "ok", "journal": 0,
    }
    # nothing acknowledged is lost, nothing is stored twice, and the one in danger is on top
    assert all(inbound(r, s) == ["HELP"] for s in before + during + after)
    assert inbound(r, "+15552019999") == ["he is going to hurt me"]
    top = store.queue(r)[0]
    assert (top["cid"], top["priority"]) == ("sms:+15552019999", "critical")


def test_nothing_acknowledged_is_lost_when_redis_crashes(app_config, own_valkey):
    app = create_app({**app_config, "REDIS_URL": own_valkey.url})
    senders = [f"+1555300{n:04d}" for n in range(60)]
    for body in ("HELP", "my boss took my passport"):
        assert all(burst(app, senders, body))
    own_valkey.stop(kill=True)  # SIGKILL: no shutdown save, only the append-only file
    own_valkey.start()
    assert all(
        inbound(app.redis, s) == ["HELP", "my boss took my passport"] for s in senders
    )
    assert {row["cid"] for row in store.queue(app.redis)} == {f"sms:{s}" for s in senders}


@pytest.fixture
def broken_intents(tmp_path: Path) -> Path:
    intents = tmp_path / "intents"
    shutil.copytree(ROOT / "intents", intents)
    (intents / "keywords.yaml").write_text(
        "version: 1\nkeywords:\n  stop:\n    en: [stop\n  help:\n", encoding="utf-8"
    )
    return intents


def test_check_names_the_broken_file_and_line(broken_intents):
    run = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--intents", str(broken_intents)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert run.returncode == 1
    assert f"{broken_intents / 'keywords.yaml'}:5:" in run.stdout


def test_a_broken_file_at_start_still_answers_with_the_hotline(app_config, broken_intents):
    app = create_app({**app_config, "INTENTS_DIR": str(broken_intents)})
    assert "keywords.yaml" in app.extensions["line"].content.errors[0]
    assert HOTLINE in reply(post(app, "HELP", "+15554000001"))
    text = reply(post(app, "he is going to hurt me", "+15554000002"))
    assert text.index("911") < text.index(HOTLINE)
    # a broken data file never switches storage off: both are stored, queued for a person
    assert inbound(app.redis, "+15554000002") == ["he is going to hurt me"]
    assert inbound(app.redis, "+15554000001") == ["HELP"]
    health = app.test_client().get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["classifier"] == "down"
    assert "data file" in health.get_json()["reason"]
