"""The core flows on a real 3-primary Valkey Cluster: webhook, queue, claim, transcript, opt-out."""

from __future__ import annotations

from bot import create_app, store
from tests.helpers import HOTLINE, post_sms, reply
from tests.servers import CLUSTER_SENDERS as SENDERS
from tests.servers import free_port


def test_conversations_spread_over_every_node(cluster_client):
    slots = {cluster_client.keyslot(store.conv_key(f"sms:{s}")) for s in SENDERS}
    owners = {cluster_client.nodes_manager.get_node_from_slot(slot).port for slot in slots}
    assert len(owners) == 3


def test_webhook_stores_and_queues_on_the_cluster(cluster_app, cluster_client):
    client = cluster_app.test_client()
    for sender in SENDERS:
        assert HOTLINE in reply(post_sms(client, "HELP", sender))
    assert HOTLINE in reply(post_sms(client, "he is going to hurt me", SENDERS[5]))

    rows = store.queue(cluster_client)
    assert {r["cid"] for r in rows} == {f"sms:{s}" for s in SENDERS}
    assert rows[0]["cid"] == f"sms:{SENDERS[5]}"  # the danger moved it to the top
    log = store.transcript(cluster_client, f"sms:{SENDERS[5]}")
    assert [(e.direction, e.sender) for e in log] == [("in", "person"), ("out", "bot")] * 2
    assert int(cluster_client.get(store.VERSION)) == len(SENDERS) + 1


def test_claim_reply_close_and_opt_out_on_the_cluster(cluster_app, cluster_client, fake_twilio):
    cid = f"sms:{SENDERS[0]}"
    post_sms(cluster_app.test_client(), "can I talk to a real person", SENDERS[0])
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
    post_sms(cluster_app.test_client(), "STOP", SENDERS[0])
    assert cluster_client.exists(store.optout_key(cid))


def test_health_and_app_start_with_the_cluster_down(app_config, cluster):
    url = f"redis://127.0.0.1:{free_port()}/0?cluster=true"
    app = create_app({**app_config, "REDIS_URL": url})
    assert app.test_client().get("/healthz").status_code == 503
    assert HOTLINE in reply(post_sms(app.test_client(), "HELP", SENDERS[0]))
    assert app.test_client().get("/healthz").get_json()["journal"] == 1  # kept on local disk
    # the cluster is up (same DATA_DIR, as a restarted worker would be): the journal reaches it
    up = create_app({**app_config, "REDIS_URL": cluster.url})
    up.extensions["upkeep"].run_once()
    assert up.test_client().get("/healthz").get_json() == {
        "redis": "ok",
        "classifier": "ok",
        "journal": 0,
    }
    assert [e.text for e in store.transcript(up.redis, f"sms:{SENDERS[0]}")][-2] == "HELP"
