"""Fixtures: a real Valkey server (and a Valkey Cluster), the app wired to it, Twilio-signed
requests, the fake Twilio API and console staff. Helpers that are not fixtures are in
tests/helpers.py, servers in tests/servers.py."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.cluster import RedisCluster

from bot import accounts, create_app
from bot.redis_client import split_cluster_flag
from tests.fake_twilio import fake_twilio  # noqa: F401 (a fixture, here for every test)
from tests.helpers import AUTH_TOKEN, PASSWORD, post_sms
from tests.servers import ValkeyCluster, ValkeyProcess


def pytest_report_header() -> str:
    import subprocess

    from bot.embedded import valkey_binary

    out = subprocess.run([str(valkey_binary()), "--version"], capture_output=True, text=True)
    return out.stdout.strip()


@pytest.fixture(scope="session")
def valkey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValkeyProcess]:
    with ValkeyProcess(tmp_path_factory.mktemp("valkey")) as server:
        yield server


@pytest.fixture
def redis_client(valkey: ValkeyProcess) -> Iterator[redis.Redis]:
    if valkey.process is None or valkey.process.poll() is not None:
        valkey.start()  # a test may have stopped it
    client = redis.Redis.from_url(valkey.url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def app_config(valkey: ValkeyProcess, tmp_path: Any, redis_client: redis.Redis) -> dict[str, Any]:
    return {
        "TESTING": True,
        "REDIS_URL": valkey.url,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "SECRET_KEY": "test-secret",
        "DATA_DIR": str(tmp_path / "data"),
        "EMERGENCY_NUMBER": "911",
        "UPKEEP_SECONDS": 0,  # tests run the background work themselves (`run_once`)
    }


@pytest.fixture
def app(app_config: dict[str, Any]):
    return create_app(app_config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def send_sms(client) -> Callable[..., Any]:
    """POST a Twilio-signed message to /sms; returns the response."""

    def send(body: str, sender: str = "+15550001111", **extra: str) -> Any:
        ids = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32}
        return post_sms(client, body, sender, **{**ids, **extra})

    return send


@pytest.fixture
def own_valkey(tmp_path: Path) -> Iterator[ValkeyProcess]:
    """A Valkey of this test's own (fsync every second, as deployed) that it may freeze
    (SIGSTOP) or kill."""
    server = ValkeyProcess(tmp_path / "valkey", None, "--appendfsync", "everysec").start()
    yield server
    if server.process and server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop(kill=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValkeyCluster]:
    with ValkeyCluster(tmp_path_factory.mktemp("cluster")) as server:
        yield server


@pytest.fixture
def cluster_client(cluster: ValkeyCluster) -> Iterator[RedisCluster]:
    client = RedisCluster.from_url(split_cluster_flag(cluster.url)[0])
    client.flushall(target_nodes=RedisCluster.PRIMARIES)
    yield client
    client.close()


@pytest.fixture
def cluster_app(app_config, fake_twilio, cluster, cluster_client):  # noqa: F811
    return create_app({**app_config, "REDIS_URL": cluster.url})


@pytest.fixture
def staff(app) -> dict[str, str]:
    """Two operators (alice, bob) and an admin (root), all with PASSWORD."""
    for name, admin in (("alice", False), ("bob", False), ("root", True)):
        accounts.create(app.redis, name, PASSWORD, admin=admin)
    return {"alice": PASSWORD, "bob": PASSWORD, "root": PASSWORD}
