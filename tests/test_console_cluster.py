"""The console's own Redis use (accounts, login limits, refs, audit, block) on a Valkey Cluster."""

from __future__ import annotations

from bot import accounts, store
from tests.helpers import CRITICAL_TEXT, PASSWORD, logged_in, login, page, post, texts
from tests.servers import CLUSTER_SENDERS as SENDERS


def test_console_flows_on_the_cluster(cluster_app, cluster_client, fake_twilio):
    app = cluster_app
    accounts.create(app.redis, "alice", PASSWORD)
    accounts.create(app.redis, "root", PASSWORD, admin=True)
    for sender in SENDERS[:6]:  # conversations on every node
        texts(app, sender, CRITICAL_TEXT if sender == SENDERS[3] else "hi")
    accounts.create(app.redis, "mallory", PASSWORD)
    for _ in range(5):
        assert login(app.test_client(), "mallory", "wrong password!").status_code == 401
    assert login(app.test_client(), "mallory").status_code == 429

    alice, root = logged_in(app, "alice"), logged_in(app, "root")
    rows = alice.get("/console/api/queue").get_json()["rows"]
    assert len(rows) == 6 and rows[0]["number"] == "+1•••••0003"
    ref = rows[0]["ref"]
    post(alice, f"/console/c/{ref}/claim")
    assert (
        post(alice, f"/console/c/{ref}/reply", text="Hi, Alice here.", key="9" * 32).status_code
        == 303
    )
    assert [m["Body"] for m in fake_twilio.messages] == ["Hi, Alice here."]
    assert "Operator alice" in page(alice, f"/console/c/{ref}")

    other = rows[1]["ref"]
    post(root, f"/console/c/{other}/block", blocked="1")
    post(root, f"/console/c/{other}/erase", confirm="yes")
    assert len(store.queue(cluster_client)) == 5
    html = page(root, "/console/audit")
    for action in ("login failed", "claim", "reply", "block", "erase"):
        assert f"<td>{action}</td>" in html

    post(root, "/console/operators/alice/end-sessions")  # her session keys share one slot
    assert alice.get("/console/").status_code == 302
    assert logged_in(app, "alice").get("/console/api/queue?page=2").get_json()["rows"] == []
