"""The core flows on a real 3-primary Valkey Cluster: webhook, queue, claim, transcript, opt-out."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

from bot import create_app, store
from bot.embedded import valkey_binary
from bot.redis_client import split_cluster_flag
from tests.conftest import HOTLINE, reply, sign
from tests.servers import free_port

SLOTS = [(0, 5460), (5461, 10922), (10923, 16383)]


class ValkeyCluster:
    """Three cluster-enabled valkey-servers, slots assigned and joined by hand (no valkey-cli)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ports = [free_port() for _ in SLOTS]
        self.processes: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0?cluster=true"

    def start(self) -> ValkeyCluster:
        for port in self.ports:
            node_dir = self.directory / str(port)
            node_dir.mkdir(parents=True)
            self.processes.append(subprocess.Popen(
                [str(valkey_binary()), "--bind", "127.0.0.1", "--port", str(port),
                 "--cluster-enabled", "yes", "--cluster-port", str(free_port()),
                 "--cluster-config-file", str(node_dir / "nodes.conf"), "--dir", str(node_dir),
                 "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
        nodes = [redis.Redis(port=p, socket_connect_timeout=0.2) for p in self.ports]
        self._until(lambda: all(n.ping() for n in nodes))
        for node, (first, last) in zip(nodes, SLOTS, strict=True):
            node.execute_command("CLUSTER ADDSLOTSRANGE", first, last)
        bus = {p: int(nodes[i].config_get("cluster-port")["cluster-port"])
               for i, p in enumerate(self.ports)}
        for port in self.ports[1:]:
            nodes[0].execute_command("CLUSTER MEET", "127.0.0.1", port, bus[port])
        self._until(lambda: all(self._ready(n.execute_command("CLUSTER INFO")) for n in nodes))
        return self

    @staticmethod
    def _ready(info: dict) -> bool:
        return info["cluster_state"] == "ok" and info["cluster_known_nodes"] == str(len(SLOTS))

    @staticmethod
    def _until(ready, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if ready():
                    return
            except (redis.ConnectionError, redis.ResponseError):
                pass
            time.sleep(0.05)
        raise RuntimeError("the Valkey cluster did not come up")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValkeyCluster]:
    server = ValkeyCluster(tmp_path_factory.mktemp("cluster")).start()
    yield server
    server.stop()


@pytest.fixture
def cluster_client(cluster: ValkeyCluster) -> Iterator[RedisCluster]:
    client = RedisCluster.from_url(split_cluster_flag(cluster.url)[0])
    client.flushall(target_nodes=RedisCluster.PRIMARIES)
    yield client
    client.close()


@pytest.fixture
def cluster_app(app_config, fake_twilio, cluster, cluster_client):
    return create_app({**app_config, "REDIS_URL": cluster.url})


def post_sms(app, body: str, sender: str):
    params = {"From": sender, "To": "+15559990000", "Body": body}
    headers = {"X-Twilio-Signature": sign("http://localhost/sms", params)}
    return app.test_client().post("/sms", data=params, headers=headers)


SENDERS = [f"+1555100{n:04d}" for n in range(12)]  # ids hash to slots on all three nodes


def test_conversations_spread_over_every_node(cluster_client):
    slots = {cluster_client.keyslot(store.conv_key(f"sms:{s}")) for s in SENDERS}
    owners = {cluster_client.nodes_manager.get_node_from_slot(slot).port for slot in slots}
    assert len(owners) == 3


def test_webhook_stores_and_queues_on_the_cluster(cluster_app, cluster_client):
    for sender in SENDERS:
        assert HOTLINE in reply(post_sms(cluster_app, "HELP", sender))
    assert HOTLINE in reply(post_sms(cluster_app, "he is going to hurt me", SENDERS[5]))

    rows = store.queue(cluster_client)
    assert {r["cid"] for r in rows} == {f"sms:{s}" for s in SENDERS}
    assert rows[0]["cid"] == f"sms:{SENDERS[5]}"  # the danger moved it to the top
    log = store.transcript(cluster_client, f"sms:{SENDERS[5]}")
    assert [(e.direction, e.sender) for e in log] == [("in", "person"), ("out", "bot")] * 2
    assert int(cluster_client.get(store.VERSION)) == len(SENDERS) + 1


def test_claim_reply_close_and_opt_out_on_the_cluster(cluster_app, cluster_client, fake_twilio):
    cid = f"sms:{SENDERS[0]}"
    post_sms(cluster_app, "can I talk to a real person", SENDERS[0])
    r = cluster_app.redis
    assert store.claim(r, cid, "ana") and not store.claim(r, cid, "ben")

    out = cluster_app.extensions["outbound"]
    sid = out.send(cid, SENDERS[0], "Hi, this is Ana.", key="c1")
    assert out.send(cid, SENDERS[0], "Hi, this is Ana.", key="c1") == sid
    assert len(fake_twilio.messages) == 1
    store.append_entry(r, cid, store.Entry("out", "operator:ana", "Hi, this is Ana."), 3600)
    assert store.transcript(cluster_client, cid)[-1].sender == "operator:ana"

    store.close(r, cid)
    assert cid not in {row["cid"] for row in store.queue(cluster_client)}
    post_sms(cluster_app, "STOP", SENDERS[0])
    assert cluster_client.exists(store.optout_key(cid))


def test_health_and_app_start_with_the_cluster_down(app_config, cluster):
    url = f"redis://127.0.0.1:{free_port()}/0?cluster=true"
    app = create_app({**app_config, "REDIS_URL": url})
    assert app.test_client().get("/healthz").status_code == 503
    assert HOTLINE in reply(post_sms(app, "HELP", SENDERS[0]))
    assert app.test_client().get("/healthz").get_json()["journal"] == 1  # kept on local disk
    # the cluster is up (same DATA_DIR, as a restarted worker would be): the journal reaches it
    up = create_app({**app_config, "REDIS_URL": cluster.url})
    up.extensions["upkeep"].run_once()
    assert up.test_client().get("/healthz").get_json() == {
        "redis": "ok", "classifier": "ok", "journal": 0,
    }
    assert [e.text for e in store.transcript(up.redis, f"sms:{SENDERS[0]}")][-2] == "HELP"
