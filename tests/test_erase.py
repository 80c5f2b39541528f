"""Erase and retention (issue 12): nothing that names a person outlives their conversation.

An erase leaves no key name or value holding the number, the token or what was written (the
opt-out alone stays), and the append-only file is rewritten without it. A conversation that
expires takes its queue entry, console reference, delivery reports and the rest with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.cluster import RedisCluster

from bot import accounts, create_app, history, retention, store
from bot.config import ROOT
from tests.fake_twilio import FROM
from tests.helpers import (
    HOTLINE,
    PASSWORD,
    away_from_window_edge,
    delivered,
    inbound,
    logged_in,
    messages,
    post,
    queue,
    row_for,
    sign,
)
from tests.servers import ValkeyProcess

NUMBER = "+15550004242"
# the keys a conversation has in its own slot (`{sms:NUMBER}`), by prefix
CONVERSATION_KEYS = (
    "tl:conv:",
    "tl:log:",
    "tl:delivery:",
    "tl:out:",
    "tl:flood:",
    "tl:floodgate:",
    "tl:floodseen:",
)
DIGITS = NUMBER[2:]  # also catches the number however it is quoted or escaped
CID = f"sms:{NUMBER}"
SECRET = "they keep us in the barn on willow road"
OPERATOR_TEXT = "Stay on the line with us, are you near the barn now?"


def dump(r: Any) -> list[tuple[str, str]]:
    """Every key in Redis with its whole value, read by type, as text."""
    clients = (
        [n.redis_connection for n in r.get_primaries()] if isinstance(r, RedisCluster) else [r]
    )
    readers = {
        "string": lambda c, k: c.get(k),
        "hash": lambda c, k: c.hgetall(k),
        "list": lambda c, k: c.lrange(k, 0, -1),
        "set": lambda c, k: c.smembers(k),
        "zset": lambda c, k: c.zrange(k, 0, -1, withscores=True),
        "stream": lambda c, k: c.xrange(k),
    }
    rows = []
    for c in clients:
        for key in c.scan_iter(count=1000):
            kind = c.type(key).decode()
            rows.append((key.decode(), repr(readers[kind](c, key)) if kind in readers else kind))
    return rows


def naming(r: Any, *needles: str) -> list[str]:
    """Keys whose name or value holds any of `needles`."""
    return sorted(key for key, value in dump(r) if any(n in key or n in value for n in needles))


def sms(client: Any, body: str, sender: str = NUMBER) -> list[str]:
    params = {"From": sender, "To": FROM, "Body": body, "MessageSid": "SM" + uuid.uuid4().hex}
    headers = {"X-Twilio-Signature": sign("http://localhost/sms", params)}
    return messages(client.post("/sms", data=params, headers=headers))


def a_whole_conversation(app: Any, fake: Any) -> tuple[Any, str]:
    """SMS turns, a flood, an operator who claims and replies, Twilio's delivery report."""
    accounts.create(app.redis, "root", PASSWORD, admin=True)
    client = app.test_client()
    away_from_window_edge()
    assert HOTLINE in sms(client, SECRET)[0]
    for _ in range(13):  # the same text over and over: throttled, counted, gated
        sms(client, "hello")
    root = logged_in(app, "root")
    ref = row_for(root, NUMBER[-4:])["ref"]
    post(root, f"/console/c/{ref}/claim")
    assert (
        post(root, f"/console/c/{ref}/reply", text=OPERATOR_TEXT, key="a" * 32).status_code == 303
    )
    assert delivered(client, fake.messages[-1]["Sid"], NUMBER, FROM) == 204
    return root, ref


def aof_rewrites(r: Any) -> int:
    return int(r.info("persistence")["aof_rewrites"])


def aof_text(directory: Path) -> bytes:
    return b"".join(
        p.read_bytes() for p in directory.rglob("*") if p.is_file() and ".aof" in p.name
    )


@pytest.fixture
def aof_valkey(tmp_path: Path) -> Iterator[ValkeyProcess]:
    """A Valkey of this test's own whose append-only file is plain commands (no RDB preamble,
    which may compress strings), so a search of the files finds any text still in them."""
    with ValkeyProcess(tmp_path / "aof", None, "--aof-use-rdb-preamble", "no") as server:
        yield server


def test_erase_leaves_no_trace_in_redis_or_its_append_only_file(
    fake_twilio, app_config, aof_valkey
):
    app = create_app({**app_config, "REDIS_URL": aof_valkey.url})
    r = redis.Redis.from_url(aof_valkey.url)
    root, ref = a_whole_conversation(app, fake_twilio)
    kept = naming(r, DIGITS)
    for prefix in (*CONVERSATION_KEYS, "tl:ref:", "tl:queue"):
        assert any(k.startswith(prefix) for k in kept), (prefix, kept)
    assert SECRET.encode() in aof_text(aof_valkey.directory)
    before = aof_rewrites(r)

    assert post(root, f"/console/c/{ref}/erase", confirm="yes").status_code == 303

    assert naming(r, DIGITS, SECRET, OPERATOR_TEXT) == []
    assert queue(root) == [] and root.get(f"/console/c/{ref}").status_code == 404
    deadline = time.monotonic() + 20
    while True:  # the rewrite runs in the background; then the old files are deleted
        info = r.info("persistence")
        text = aof_text(aof_valkey.directory)
        done = info["aof_rewrites"] > before and not info["aof_rewrite_in_progress"]
        if done and SECRET.encode() not in text:
            break
        assert time.monotonic() < deadline, info
        time.sleep(0.1)
    for needle in (DIGITS, SECRET, OPERATOR_TEXT):
        assert needle.encode() not in text
    # Twilio's report of the erased reply, arriving late, writes nothing back
    assert delivered(app.test_client(), fake_twilio.messages[-1]["Sid"], NUMBER, FROM) == 204
    assert naming(r, DIGITS) == []


def test_an_erase_during_a_rewrite_rewrites_again_after_it(app_config, aof_valkey):
    """A rewrite already running copies the data as it was before the erase: when it ends,
    the erase asks for another."""
    app = create_app({**app_config, "REDIS_URL": aof_valkey.url})
    r = redis.Redis.from_url(aof_valkey.url)
    client = app.test_client()
    for n in range(10):
        sms(client, f"{SECRET} {n}")
    before = aof_rewrites(r)
    r.config_set("rdb-key-save-delay", 100_000)  # 0.1 s a key: the rewrite takes a while
    r.bgrewriteaof()
    r.config_set("rdb-key-save-delay", 0)
    assert r.info("persistence")["aof_rewrite_in_progress"]
    store.erase(app.redis, CID)
    deadline = time.monotonic() + 30
    while r.info("persistence")["aof_rewrites"] < before + 2 or SECRET.encode() in aof_text(
        aof_valkey.directory
    ):
        assert time.monotonic() < deadline, r.info("persistence")
        time.sleep(0.1)
    assert DIGITS.encode() not in aof_text(aof_valkey.directory)


def test_erase_keeps_the_opt_out_and_nothing_else(fake_twilio, app, redis_client):
    root, ref = a_whole_conversation(app, fake_twilio)
    sms(app.test_client(), "STOP")
    post(root, f"/console/c/{ref}/erase", confirm="yes")
    assert naming(redis_client, DIGITS) == [store.optout_key(CID)]
    assert SECRET not in repr(dump(redis_client))
    assert sms(app.test_client(), "hello again") == []  # still opted out: no text goes to them


def test_erase_of_a_web_chat_leaves_no_token(app, client, redis_client):
    from bot.widget import tokens

    accounts.create(app.redis, "root", PASSWORD, admin=True)
    token = tokens.new_token(app.config["SECRET_KEY"])
    for text in (SECRET, "are you there"):
        response = client.post("/chat/api/messages", json={"token": token, "text": text})
        assert response.status_code == 200, response.data
    root = logged_in(app, "root")
    ref = row_for(root, token[-4:])["ref"]
    post(root, f"/console/c/{ref}/erase", confirm="yes")
    assert naming(redis_client, token.partition(".")[0], SECRET) == []


def test_erase_on_a_cluster_scans_every_primary(cluster_app, cluster_client):
    client = cluster_app.test_client()
    numbers = [f"+1555200{n:04d}" for n in range(6)]  # slots on all three nodes
    for number in numbers:
        sms(client, SECRET + " " + number, sender=number)
    store.erase(cluster_app.redis, f"sms:{numbers[0]}")
    assert naming(cluster_client, numbers[0][2:]) == []
    others = {n: inbound(cluster_client, n) for n in numbers[1:]}
    assert others == {n: [SECRET + " " + n] for n in numbers[1:]}  # the others are untouched


def test_the_sweep_on_a_cluster(cluster_app, cluster_client):
    client = cluster_app.test_client()
    numbers = [f"+1555200{n:04d}" for n in range(6)]
    for number in numbers:
        sms(client, SECRET, sender=number)
    cluster_client.delete(store.conv_key(f"sms:{numbers[0]}"))  # as if it had expired
    held = indexed(cluster_client, f"sms:{numbers[0]}")
    assert store.QUEUE in held and history.CONVS in held
    counts = retention.sweep(cluster_app.redis, 30 * 86400)
    assert counts["members"] == len(held) and counts["keys"] >= 2
    assert indexed(cluster_client, f"sms:{numbers[0]}") == []
    assert naming(cluster_client, numbers[0][2:]) == []
    assert {row["cid"] for row in store.queue(cluster_client)} == {f"sms:{n}" for n in numbers[1:]}


# --- retention ---------------------------------------------------------------------------------


def indexed(client, cid: str) -> list[str]:
    """The shared sorted sets that hold the conversation (the queue, bot/history.py's)."""
    return [
        k
        for k in (store.QUEUE, history.CONVS, history.CRITICAL, history.CLOSED)
        if client.zscore(k, cid) is not None
    ]


def test_an_expired_conversation_leaves_nothing_behind(fake_twilio, app, redis_client):
    root, ref = a_whole_conversation(app, fake_twilio)
    line = app.extensions["line"]
    line.retention_seconds = 2  # a short retention: the next message sets it
    sms(app.test_client(), "are you still there")
    post(root, f"/console/c/{ref}/reply", text=OPERATOR_TEXT + "?", key="b" * 32)
    while redis_client.exists(store.conv_key(CID)):
        time.sleep(0.1)
    # what outlived the conversation: its transcript (renewed by the operator's reply), the
    # send markers, its place in the queue and its console reference
    left = naming(redis_client, DIGITS)
    assert "tl:queue" in left and store.log_key(CID) in left
    held = indexed(redis_client, CID)  # the queue, search and stats indexes (bot/history.py)

    counts = retention.sweep(app.redis, 30 * 86400)

    assert naming(redis_client, DIGITS, SECRET, OPERATOR_TEXT) == []
    own_keys = [k for k in left if "{" in k]  # transcript, send markers, flood counters
    assert counts == {"members": len(held), "refs": 1, "keys": len(own_keys)}
    assert root.get(f"/console/c/{ref}").status_code == 404


def test_every_key_of_a_live_conversation_expires_with_it(fake_twilio, app, redis_client):
    root, ref = a_whole_conversation(app, fake_twilio)
    app.extensions["line"].retention_seconds = 3600
    sms(app.test_client(), "are you still there")  # the session now ends in an hour
    post(root, f"/console/c/{ref}/reply", text="yes", key="c" * 32)  # transcript: 30 days

    retention.sweep(app.redis, 30 * 86400)

    ends = redis_client.pexpiretime(store.conv_key(CID))
    assert 0 < ends - time.time() * 1000 <= 3600_000
    keys = [k for k in naming(redis_client, DIGITS) if k != "tl:queue" and "{" in k]
    assert {k.split("{")[0] for k in keys} == set(CONVERSATION_KEYS)
    for key in keys:  # none outlives it (the flood counters end sooner)
        assert 0 < redis_client.pexpiretime(key) <= ends, key
    for key in (store.log_key(CID), f"tl:delivery:{{{CID}}}"):
        assert redis_client.pexpiretime(key) == ends
    assert row_for(root, NUMBER[-4:])["ref"] == ref  # still queued and reachable


def test_the_sweep_runs_from_the_app_and_from_the_command_line(app, client, valkey, redis_client):
    def orphans() -> None:  # left by conversations that are gone
        for cid in ("sms:+15550009999", "whatsapp:+15550009999"):
            redis_client.rpush(store.log_key(cid), json.dumps({"text": SECRET}))
            redis_client.zadd(store.QUEUE, {cid: 1})

    orphans()
    sweeper = app.extensions["sweeper"]
    sweeper.next_run = 0  # due now: the next background round starts it
    app.extensions["upkeep"].run_once()
    deadline = time.monotonic() + 10
    while naming(redis_client, "5550009999"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert sweeper.run() is None  # another sweep within the interval: skipped (Redis lock)

    orphans()
    env = {**os.environ, "REDIS_URL": valkey.url}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "sweep"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"members": 2, "keys": 2, "refs": 0}
    assert naming(redis_client, "5550009999") == []
