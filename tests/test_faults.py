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
from tests.helpers import HOTLINE, inbound, post_sms, reply


def post(app, body: str, sender: str):
    return post_sms(app.test_client(), body, sender)


def burst(app, senders: list[str], body: str = "HELP") -> list[str]:
    """Post one message from each sender, 8 at a time; the replies' texts."""
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda s: reply(post(app, body, s)), senders))


def test_redis_killed_during_a_burst_then_back(app_config, own_valkey):
    app = create_app({**app_config, "REDIS_URL": own_valkey.url})
    r = app.redis
    before = [f"+1555200{n:04d}" for n in range(40)]
    during = [f"+1555201{n:04d}" for n in range(80)]
    after = [f"+1555202{n:04d}" for n in range(40)]
    assert [HOTLINE in text for text in burst(app, before)] == [True] * len(before)

    killer = threading.Timer(0.05, own_valkey.stop, kwargs={"kill": True})
    killer.start()
    texts = burst(app, during)
    killer.join()
    # every person answered, Redis or not
    assert [HOTLINE in text for text in texts] == [True] * len(during)
    danger = reply(post(app, "he is going to hurt me", "+15552019999"))
    assert "911" in danger and HOTLINE in danger
    health = app.test_client().get("/healthz")
    waiting = health.get_json()["journal"]
    assert health.status_code == 503 and health.get_json()["redis"] == "down"
    # the outage fell inside the burst: those turns (some of them, and the danger) wait on disk
    assert 1 <= waiting <= len(during) + 1

    own_valkey.start()  # same port and data; the app is not restarted
    assert [HOTLINE in text for text in burst(app, after)] == [True] * len(after)
    app.extensions["upkeep"].run_once()  # what each worker's background thread does every second
    assert app.test_client().get("/healthz").get_json() == {
        "redis": "ok",
        "classifier": "ok",
        "journal": 0,
    }
    # nothing acknowledged is lost, nothing is stored twice, and the one in danger is on top
    everyone = before + during + after
    assert {s: inbound(r, s) for s in everyone} == {s: ["HELP"] for s in everyone}
    assert inbound(r, "+15552019999") == ["he is going to hurt me"]
    top = store.queue(r)[0]
    assert (top["cid"], top["priority"]) == ("sms:+15552019999", "critical")


def test_nothing_acknowledged_is_lost_when_redis_crashes(app_config, own_valkey):
    app = create_app({**app_config, "REDIS_URL": own_valkey.url})
    senders = [f"+1555300{n:04d}" for n in range(60)]
    for body in ("HELP", "my boss took my passport"):
        assert [
            s
            for s, text in zip(senders, burst(app, senders, body), strict=True)
            if HOTLINE not in text
        ] == []
    own_valkey.stop(kill=True)  # SIGKILL: no shutdown save, only the append-only file
    own_valkey.start()
    assert {s: inbound(app.redis, s) for s in senders} == {
        s: ["HELP", "my boss took my passport"] for s in senders
    }
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
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
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


def test_a_broken_contract_at_start_still_answers_and_stores(app_config, tmp_path: Path):
    intents = tmp_path / "intents"
    shutil.copytree(ROOT / "intents", intents)
    (intents / "contract.yaml").write_text("version: 1\npriorities: [critical\n", encoding="utf-8")
    app = create_app({**app_config, "INTENTS_DIR": str(intents)})
    assert any("contract.yaml" in e for e in app.extensions["line"].content.errors)
    text = reply(post(app, "they locked me in the back room", "+15554000003"))
    assert text.index("911") < text.index(HOTLINE)
    assert inbound(app.redis, "+15554000003") == ["they locked me in the back room"]


def test_broken_replies_at_start_still_answer_and_store(app_config, tmp_path: Path):
    responses = tmp_path / "responses"
    shutil.copytree(ROOT / "responses", responses)
    (responses / "en.yaml").write_text("replies: [\n", encoding="utf-8")
    app = create_app({**app_config, "RESPONSES_DIR": str(responses)})
    assert app.extensions["line"].content.replies is None
    text = reply(post(app, "he is going to hurt me", "+15554000004"))
    assert text.index("911") < text.index(HOTLINE)
    assert HOTLINE in reply(post(app, "hola", "+15554000005"))
    assert inbound(app.redis, "+15554000004") == ["he is going to hurt me"]
    row = {r["cid"]: r for r in store.queue(app.redis)}["sms:+15554000004"]
    assert row["priority"] == "critical"  # the classifier still read it
    assert app.test_client().get("/healthz").status_code == 503  # and the fault is visible
