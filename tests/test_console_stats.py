"""See the shift, over HTTP against a real Valkey: /console/stats on a known set of conversations
(volume, time to the first human reply for critical ones, overdue, outcomes), its CSV export
(admins only, audit-logged), and 3,000 open conversations: the queue's pages, counts and filters
right, and the stats page answering in under 500 ms."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest

from bot import audit, history, store
from bot.console import privacy, stats
from bot.widget import tokens
from tests.helpers import CRITICAL_TEXT, WRAPUP, logged_in, post, texts

MIN = 60


def answered(app, cid: str, after: float) -> None:
    """An operator takes the conversation and answers `after` seconds after it became critical."""
    r = app.redis
    since = float(store.conversation(r, cid)["critical_since"])
    store.claim(r, cid, "alice")
    history.human_replied(r, cid, since + after)


@pytest.fixture
def shift(app, staff):
    """A known evening: seven critical conversations and a few others.

    reached after 2, 4 and 10 minutes; one waiting 15 minutes; one waiting 1 minute; one closed
    without a human reply; one two days ago (outside the last 24 hours)."""
    now = time.time()
    texts(app, "+15550000001", CRITICAL_TEXT, ago=30 * MIN)
    answered(app, "sms:+15550000001", 2 * MIN)
    texts(app, "+15550000002", CRITICAL_TEXT, ago=20 * MIN, channel="whatsapp")
    answered(app, "whatsapp:+15550000002", 4 * MIN)
    texts(app, "+15550000003", CRITICAL_TEXT, ago=10 * MIN)
    answered(app, "sms:+15550000003", 10 * MIN - 5)
    texts(app, "+15550000004", CRITICAL_TEXT, ago=15 * MIN)  # nobody yet: overdue now
    texts(app, "+15550000005", CRITICAL_TEXT, ago=MIN)  # nobody yet, not overdue
    texts(app, "+15550000006", CRITICAL_TEXT, ago=40 * MIN)
    store.close(app.redis, "sms:+15550000006")  # closed without a human reply
    texts(app, "+15550000007", CRITICAL_TEXT, ago=2 * 86400)  # the day before yesterday
    store.claim(app.redis, "sms:+15550000007", "alice")
    # others: a greeting in Spanish, a French web chat that leaves by quick exit, a wrap-up
    texts(app, "+15550000008", "hola", ago=5 * MIN)
    token = tokens.new_token(app.config["SECRET_KEY"])
    texts(app, token, "bonjour j'ai besoin d'aide", channel="web", ago=3 * MIN)
    app.test_client().post("/chat/api/end", json={"token": token})
    texts(app, "+15550000009", "my boss took my passport", ago=50 * MIN)
    alice = logged_in(app, "alice")
    cid = "sms:+15550000009"
    ref = privacy.remember(app.redis, app.config["SECRET_KEY"], [cid], 3600)[cid]
    post(alice, f"/console/c/{ref}/claim")
    assert post(alice, f"/console/c/{ref}/close", **WRAPUP).status_code == 303
    app.now = now
    return app


def test_figures_of_a_known_shift(shift):
    f = stats.figures(shift.redis, time.time(), 24, 120)
    assert f["totals"] == {"in": 9, "new": 9, "critical": 6}
    assert dict(f["by_channel"]) == {"sms": 7, "whatsapp": 1, "web": 1}
    assert dict(f["by_intent"])["emergency"] == 6
    assert dict(f["by_intent"])["greeting"] == 1 and dict(f["by_intent"])["help"] == 2
    assert dict(f["by_language"]) == {"en": 7, "es": 1, "fr": 1}
    assert sum(h["in"] for h in f["hourly"]) == 9 and len(f["hourly"]) == 24
    assert f["open"] == {"critical": 6, "high": 0, "normal": 0, "low": 1}
    assert f["overdue_now"] == 1  # +...0004: critical, nobody holds it, 15 minutes
    c = f["critical"]
    assert (c["episodes"], c["reached"], c["waiting"], c["missed"]) == (6, 3, 2, 1)
    assert c["median"] == pytest.approx(4 * MIN)
    assert c["p90"] == pytest.approx(10 * MIN - 5)
    # within 5 minutes: 2 of 5 (3 reached, 1 closed unreached, 1 waiting 15 min; not the one
    # waiting 1 minute)
    assert (c["within"], c["judged"]) == (2, 5) and c["share"] == pytest.approx(0.4)
    assert c["late"] == 4  # reached after 4 and 10 min, closed unreached, waiting 15 min
    closed = f["closed"]
    assert (closed["closed"], closed["quick_exits"], closed["wrapped"]) == (3, 1, 1)
    assert closed["outcome"] == [("Referred to the hotline", 1)]
    assert closed["exploitation"] == [("Labour", 1)] and closed["minor"] == [("Yes", 1)]


def test_a_week_includes_the_day_before_yesterday(shift):
    f = stats.figures(shift.redis, time.time(), 168, 120)
    assert f["totals"]["in"] == 10 and f["critical"]["episodes"] == 7
    assert len(f["hourly"]) == 168


def test_stats_page_shows_the_figures(shift):
    alice = logged_in(shift, "alice")
    response = alice.get("/console/stats")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="stat-messages">9<' in html
    assert 'id="stat-overdue">1<' in html
    assert 'id="stat-share">40%<' in html
    assert 'id="stat-median">4m 00s<' in html
    assert 'id="stat-p90">9m 55s<' in html
    assert "Referred to the hotline" in html and "Crisis Text Line" in html
    assert "+1555" not in html and "5550000" not in html  # no number, not even masked
    assert 'id="export-stats"' not in html  # exports are for admins
    assert alice.get("/console/stats?hours=168").status_code == 200
    assert alice.get("/console/stats?hours=5").status_code == 400


def test_stats_need_a_login(client):
    assert client.get("/console/stats").status_code == 302


def test_an_operator_reply_records_the_first_human_reply(app, staff):
    token = tokens.new_token(app.config["SECRET_KEY"])
    texts(app, token, CRITICAL_TEXT, channel="web", ago=90)
    cid = "web:" + token
    alice = logged_in(app, "alice")
    ref = privacy.remember(app.redis, app.config["SECRET_KEY"], [cid], 3600)[cid]
    post(alice, f"/console/c/{ref}/claim")
    for text in ("first", "second"):
        post(
            alice, f"/console/c/{ref}/reply", text=text, key=("a" if text == "first" else "b") * 32
        )
    conv = store.conversation(app.redis, cid)
    entries = store.transcript(app.redis, cid)
    first = [e for e in entries if e.sender == "operator:alice"][0]
    assert float(conv["first_human_reply_ts"]) == pytest.approx(first.ts)
    assert float(conv["critical_reply_ts"]) == pytest.approx(first.ts)
    c = stats.figures(app.redis, time.time(), 24, 120)["critical"]
    assert c["reached"] == 1 and 89 < c["median"] < 100 and c["share"] == 1.0


def read_csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_stats_export_is_for_admins_and_audit_logged(shift):
    alice = logged_in(shift, "alice")
    assert post(alice, "/console/stats/export.csv").status_code == 403
    root = logged_in(shift, "root")
    assert 'id="export-stats"' in root.get("/console/stats").get_data(as_text=True)
    rows = read_csv(post(root, "/console/stats/export.csv", hours="24"))
    assert rows[0] == ["section", "name", "value"]
    table = {(section, name): value for section, name, value in rows[1:]}
    assert table[("totals", "messages")] == "9"
    assert table[("critical_first_human_reply", "median_seconds")] == "240.0"
    assert table[("critical_first_human_reply", "share_within_5_minutes")] == "0.4"
    assert table[("overdue", "critical_unclaimed_now")] == "1"
    assert table[("outcome", "Referred to the hotline")] == "1"
    assert table[("by_channel", "web")] == "1"
    body = post(root, "/console/stats/export.csv").get_data(as_text=True)
    assert "555" not in body
    events = [e for e in audit.recent(shift.redis) if e["action"] == "export_stats"]
    assert len(events) == 2 and events[0]["actor"] == "root"
    assert events[0]["note"] == "last 24 hours"


def test_conversation_export_from_the_stats_page(shift):
    root = logged_in(shift, "root")
    html = root.get("/console/stats").get_data(as_text=True)
    assert 'id="export-conversations"' in html
    since = stats.utc_day(time.time() - 23 * 3600)
    rows = read_csv(post(root, "/console/search/export.csv", start=since))
    assert len(rows) - 1 == 9  # not the one from the day before yesterday
    assert not any("5550000" in cell for row in rows for cell in row)
    (event,) = [e for e in audit.recent(shift.redis) if e["action"] == "export_conversations"]
    assert f"start={since}" in event["note"] and "no message text" in event["note"]


# --- 3,000 open conversations -----------------------------------------------------------------


class Batch:
    """A client whose pipelines all queue into one, sent by `flush`: store.record_turn's and
    store.close's commands for thousands of conversations in a few round trips."""

    def __init__(self, r: Any) -> None:
        self.r = r
        self.pipe = r.pipeline(transaction=False)

    def pipeline(self, transaction: bool = False) -> Batch:
        return self

    def execute(self) -> list[Any]:
        return []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pipe, name)

    def flush(self) -> None:
        self.pipe.execute()
        self.pipe = self.r.pipeline(transaction=False)


PRIORITY_OF = {"emergency": "critical", "help": "high", "info": "normal", "greeting": "low"}
LANGUAGES = ("en", "es", "fr", "en", "ht")
CHANNELS = ("sms", "whatsapp", "web")


def kind(i: int) -> str:
    """2 % critical, 5 % high, 30 % normal, the rest low."""
    n = i % 100
    return "emergency" if n < 2 else "help" if n < 7 else "info" if n < 37 else "greeting"


def many(r: Any, n: int, now: float, closed: int = 0) -> dict[str, Any]:
    """`n` open conversations (and `closed` more, closed with a wrap-up) through the store's own
    functions, a message every 15 s going back from `now`; returns what they should add up to."""
    batch = Batch(r)
    expect: dict[str, Any] = {
        "counts": dict.fromkeys(store.PRIORITY_RANK, 0),
        "es": 0,
        "web": 0,
        "critical": 0,
    }
    for i in range(n + closed):
        channel = CHANNELS[i % 3]
        address = f"web-{i:08d}" if channel == "web" else f"+1555{i:07d}"
        cid = f"{channel}:{address}"
        intent, lang = kind(i), LANGUAGES[i % 5]
        priority = PRIORITY_OF[intent]
        ts = now - 15 * i
        inbound = store.Entry(
            "in",
            "person",
            f"message {i}",
            ts,
            intent,
            priority,
            lang,
            {"confidence": 0.9, "matched": "model"},
        )
        reply = store.Entry("out", "bot", "reply", ts, intent)
        store.record_turn(
            batch,
            store.State(cid=cid),
            channel=channel,
            address=address,
            inbound=inbound,
            reply=reply,
            language=lang,
            priority=priority,
            retention_seconds=30 * 86400,
        )
        if priority == "critical" and i % 2 == 0:
            history.human_replied(batch, cid, ts + 30 * (i % 20))
        if i >= n:
            store.close(batch, cid)
            batch.hset(
                store.conv_key(cid),
                mapping={"outcome": "resources_sent", "wrapup_ts": repr(ts + 60)},
            )
        else:
            expect["counts"][priority] += 1
            expect["es"] += lang == "es"
            expect["web"] += channel == "web"
        expect["critical"] += priority == "critical"
        if i % 500 == 499:
            batch.flush()
    batch.flush()
    return expect


def test_3000_open_conversations_queue_pages_counts_filters_stats_and_search(app, staff):
    """What the console shows at this scale; how fast is measured by bench/console.py."""
    r = app.redis
    expect = many(r, 3000, time.time(), closed=300)
    assert r.zcard(store.QUEUE) == 3000 and r.zcard(history.CONVS) == 3300
    alice = logged_in(app, "alice")

    first = alice.get("/console/api/queue").get_json()
    assert first["total"] == 3000 and first["counts"] == expect["counts"]
    urgent = expect["counts"]["critical"] + expect["counts"]["high"]
    assert len(first["rows"]) == max(urgent, 100)
    assert [row["priority"] for row in first["rows"][:urgent]].count("critical") == expect[
        "counts"
    ]["critical"]
    seen = [row["ref"] for row in first["rows"]]
    for page in range(2, first["pages"] + 1):
        rows = alice.get(f"/console/api/queue?page={page}").get_json()["rows"]
        assert rows and len(rows) <= 100
        seen += [row["ref"] for row in rows]
    assert len(seen) == len(set(seen)) == 3000
    html = alice.get("/console/").get_data(as_text=True)
    assert "(3000 open)" in html and f"{expect['counts']['critical']} critical" in html

    es = alice.get("/console/api/queue?language=es").get_json()
    assert es["total"] == expect["es"] and sum(es["counts"].values()) == expect["es"]
    web = alice.get("/console/api/queue?channel=web&page=2").get_json()
    assert web["total"] == expect["web"]
    on_page_two = min(100, expect["web"] - 100)  # 100 a page (CONSOLE_QUEUE_PAGE_SIZE)
    assert on_page_two > 0 and [row["channel"] for row in web["rows"]] == ["web"] * on_page_two

    response = alice.get("/console/stats")
    assert response.status_code == 200
    assert 'id="stat-messages">3300<' in response.get_data(as_text=True)
    f = stats.figures(r, time.time(), 24, 120)
    assert f["critical"]["episodes"] == expect["critical"]
    assert f["closed"]["closed"] == 300 and f["closed"]["wrapped"] == 300
    searched = alice.get("/console/search?text=message+2999")
    assert "message 2999" in searched.get_data(as_text=True)
