"""Find and remember, over HTTP against a real Valkey: search open and closed conversations by
each field, quick exits, filters on the queue, a repeat contact's history and raised priority,
the conversation export (masked, admins only, audit-logged), erase and the sweep pruning the
search index."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import audit, history, retention, store
from bot.console import privacy
from bot.widget import tokens
from tests.helpers import CRITICAL_TEXT, logged_in, post, texts

DAY = 86400


def search(client: Any, **args: str) -> tuple[int, str]:
    response = client.get("/console/search", query_string=args)
    return response.status_code, response.get_data(as_text=True)


def found(client: Any, **args: str) -> list[str]:
    """The masked numbers the search lists, in order."""
    status, html = search(client, **args)
    assert status == 200, html[-2000:]
    return re.findall(r'class="open" href="[^"]+">([^<]+?) <span class="ref-tag">', html)


def ref_of(app, cid: str) -> str:
    return privacy.ref_for(app.config["SECRET_KEY"], cid)


def close(client: Any, app, cid: str) -> Any:
    ref = ref_of(app, cid)
    privacy.remember(app.redis, app.config["SECRET_KEY"], [cid], 3600)
    return post(
        client,
        f"/console/c/{ref}/close",
        outcome="resources_sent",
        exploitation="labour",
        minor="no",
    )


def quick_exit(client: Any, token: str) -> Any:
    return client.post("/chat/api/end", json={"token": token})


WEB = {}  # name -> token of the web chats of `people` (tokens are signed: made per test)


def web(app, name: str) -> str:
    if name not in WEB or WEB[name][0] != app.config["SECRET_KEY"]:
        WEB[name] = (app.config["SECRET_KEY"], tokens.new_token(app.config["SECRET_KEY"]))
    return WEB[name][1]


def masked(app, name: str) -> str:
    return privacy.mask(web(app, name))


@pytest.fixture
def people(app):
    """Five conversations on three channels, in three languages."""
    WEB.clear()
    texts(app, "+15550001111", "my boss took my passport", ago=3 * DAY)  # help, en
    texts(app, "+15550002222", "hola", ago=2 * DAY, channel="whatsapp")  # greeting, es
    texts(app, "+15550003333", CRITICAL_TEXT, ago=600)  # emergency, en
    texts(app, web(app, "fr"), "bonjour j'ai besoin d'aide", channel="web", ago=300)
    texts(app, web(app, "shelter"), "where can I find a shelter", channel="web", ago=60)
    app.fr, app.shelter = masked(app, "fr"), masked(app, "shelter")
    return app


# --- search by each field ---------------------------------------------------------------------


def test_search_lists_every_conversation_newest_first_masked(people, staff):
    alice = logged_in(people, "alice")
    assert found(alice) == [people.shelter, people.fr, "+1•••••3333", "+1•••••2222", "+1•••••1111"]
    _, html = search(alice)
    assert "+15550001111" not in html and "5550001111" not in html


def test_search_by_each_field(people, staff):
    alice = logged_in(people, "alice")
    assert found(alice, number="2222") == ["+1•••••2222"]
    assert found(alice, number="•2222") == ["+1•••••2222"]  # pasted from the queue
    assert found(alice, number=people.fr[-4:]) == [people.fr]
    assert found(alice, channel="whatsapp") == ["+1•••••2222"]
    assert found(alice, channel="web") == [people.shelter, people.fr]
    assert found(alice, channel="sms") == ["+1•••••3333", "+1•••••1111"]
    assert found(alice, language="es") == ["+1•••••2222"]
    assert found(alice, language="fr") == [people.fr]
    assert found(alice, intent="emergency") == ["+1•••••3333"]
    assert found(alice, intent="help", channel="sms") == ["+1•••••1111"]
    assert found(alice, text="PASSPORT") == ["+1•••••1111"]  # any case
    assert found(alice, text="besoin") == [people.fr]
    assert found(alice, text="nothing like this") == []
    ref = ref_of(people, "sms:+15550003333")
    assert found(alice, ref=ref) == ["+1•••••3333"]
    assert found(alice, ref=ref, channel="web") == []


def test_search_by_text_finds_bot_and_operator_lines_and_shows_where(people, staff):
    alice = logged_in(people, "alice")
    _, html = search(alice, text="passport")
    assert 'class="said matched"' in html and "my boss took my <" not in html
    assert "my boss took my passport" in html


def test_search_by_date_range(people, staff):
    alice = logged_in(people, "alice")
    now = datetime.now(UTC)
    today = now.strftime("%Y-%m-%d")
    three_ago = (now - timedelta(days=3)).strftime("%Y-%m-%d")
    two_ago = (now - timedelta(days=2)).strftime("%Y-%m-%d")
    assert (
        found(alice, start=today) == [people.shelter, people.fr, "+1•••••3333"] or now.hour == 0
    )  # a few minutes after midnight the 600 s ago one is yesterday's
    assert found(alice, start=three_ago, end=three_ago) == ["+1•••••1111"]
    assert found(alice, start=two_ago, end=two_ago) == ["+1•••••2222"]
    assert found(alice, end=two_ago) == ["+1•••••2222", "+1•••••1111"]


def test_search_refuses_what_does_not_fit_with_the_reason(people, staff):
    alice = logged_in(people, "alice")
    for args, reason in (
        ({"number": "12345"}, "last digits"),
        ({"channel": "fax"}, "sms, whatsapp or web"),
        ({"intent": "nonsense"}, "Unknown intent"),
        ({"status": "sleeping"}, "open, closed or quick exit"),
        ({"start": "2024-13-45"}, "is not a date"),
        ({"start": "2024-05-02", "end": "2024-05-01"}, "after the last one"),
        ({"ref": "<script>"}, "reference"),
    ):
        status, html = search(alice, **args)
        assert status == 400 and reason in html, args
    assert alice.get("/console/search?page=0").status_code == 400


def test_search_needs_a_login(client):
    response = client.get("/console/search")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]


def test_search_is_audit_logged_without_the_words(people, staff):
    alice = logged_in(people, "alice")
    found(alice, text="passport", channel="sms")
    (event,) = [e for e in audit.recent(people.redis) if e["action"] == "search"]
    assert event["actor"] == "alice"
    assert "text (8 characters)" in event["note"] and "channel=sms" in event["note"]
    assert "passport" not in event["note"]


# --- open, closed, quick exit -----------------------------------------------------------------


def test_search_by_status_open_closed_and_quick_exit(people, staff):
    alice = logged_in(people, "alice")
    close(alice, people, "sms:+15550001111")
    assert quick_exit(people.test_client(), web(people, "fr")).get_json() == {"ended": True}
    assert found(alice, status="open") == [people.shelter, "+1•••••3333", "+1•••••2222"]
    assert found(alice, status="closed") == [people.fr, "+1•••••1111"]
    assert found(alice, status="quick_exit") == [people.fr]
    _, html = search(alice, status="closed")
    assert "quick exit" in html
    conv = store.conversation(people.redis, "web:" + web(people, "fr"))
    assert conv["ended_by"] == "person" and conv["status"] == "closed"
    assert store.conversation(people.redis, "sms:+15550001111")["ended_by"] == "operator"
    # a closed conversation is still found by its words, its number, its reference
    assert found(alice, text="passport") == ["+1•••••1111"]
    # writing again reopens it: no longer a quick exit
    texts(people, web(people, "fr"), "merci", channel="web")
    assert found(alice, status="quick_exit") == []
    assert "ended_by" not in store.conversation(people.redis, "web:" + web(people, "fr"))


def test_quick_exit_of_an_unknown_chat_creates_nothing(app):
    nobody = web(app, "nobody")
    assert quick_exit(app.test_client(), nobody).get_json() == {"ended": True}
    assert not app.redis.exists(store.conv_key("web:" + nobody))
    assert app.redis.zcard(history.CLOSED) == 0


# --- filters on the queue ---------------------------------------------------------------------


def api_queue(client: Any, **args: str) -> dict[str, Any]:
    response = client.get("/console/api/queue", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def numbers(view: dict[str, Any]) -> list[str]:
    return [row["number"] for row in view["rows"]]


def test_queue_filters_by_priority_language_channel_mine_and_unassigned(people, staff):
    alice = logged_in(people, "alice")
    everything = api_queue(alice)
    assert everything["total"] == 5
    view = api_queue(alice, priority="critical")
    assert numbers(view) == ["+1•••••3333"] and view["total"] == 1
    assert view["counts"] == {"critical": 1, "high": 0, "normal": 0, "low": 0}
    assert numbers(api_queue(alice, language="es")) == ["+1•••••2222"]
    assert sorted(numbers(api_queue(alice, channel="web"))) == sorted([people.fr, people.shelter])
    assert numbers(api_queue(alice, channel="sms", priority="high")) == ["+1•••••1111"]
    ref = ref_of(people, "sms:+15550001111")
    privacy.remember(people.redis, people.config["SECRET_KEY"], ["sms:+15550001111"], 3600)
    post(alice, f"/console/c/{ref}/claim")
    mine = api_queue(alice, mine="1")
    assert numbers(mine) == ["+15550001111"]  # the holder sees the full number
    assert api_queue(logged_in(people, "bob"), mine="1")["total"] == 0
    assert api_queue(alice, unassigned="1")["total"] == 4
    assert "+15550001111" not in numbers(api_queue(alice, unassigned="1"))
    # the overdue banner still sees every unclaimed critical conversation
    assert len(api_queue(alice, language="es")["critical_waiting_since"]) == 1


def test_queue_page_shows_the_filters_and_keeps_them_in_links(people, staff):
    alice = logged_in(people, "alice")
    html = alice.get("/console/?channel=web").get_data(as_text=True)
    assert 'data-filters="channel=web"' in html
    assert '<option value="web" selected>' in html
    assert "Filtered: channel web" in html
    assert "+1•••••3333" not in html and people.shelter in html
    assert 'id="clear-filters"' in html


def test_queue_filters_refuse_what_does_not_fit(people, staff):
    alice = logged_in(people, "alice")
    response = alice.get("/console/api/queue?priority=urgent")
    assert response.status_code == 400 and response.get_json()["error"] == "bad_filter"
    assert alice.get("/console/?channel=fax").status_code == 400
    assert alice.get("/console/?mine=maybe").status_code == 400


# --- a repeat contact -------------------------------------------------------------------------


def test_hi_again_after_a_critical_week_is_high_and_shows_the_history(app, staff):
    alice = logged_in(app, "alice")
    texts(app, "+15550007777", "he is coming back", ago=7 * DAY)
    assert store.conversation(app.redis, "sms:+15550007777")["priority"] == "critical"
    close(alice, app, "sms:+15550007777")
    outcome = texts(app, "+15550007777", "hi again")
    assert outcome.intent == "greeting"
    assert outcome.priority == "high"  # not a fresh low greeting
    conv = store.conversation(app.redis, "sms:+15550007777")
    assert conv["priority"] == "high" and conv["peak_priority"] == "critical"
    (row,) = api_queue(alice)["rows"]
    assert row["priority"] == "high" and "wrote before, was critical" in row["reason"]
    ref = ref_of(app, "sms:+15550007777")
    html = alice.get(f"/console/c/{ref}").get_data(as_text=True)
    assert "Wrote before: 1 earlier conversation" in html
    assert 'highest risk <span class="badge badge-critical">critical</span>' in html
    assert "closed by an operator" in html
    assert "Resources sent" in html  # the wrap-up written on close


def test_a_fresh_low_stays_low_and_an_earlier_low_does_not_raise(app, staff):
    alice = logged_in(app, "alice")
    assert texts(app, "+15550008888", "hi").priority == "low"
    close(alice, app, "sms:+15550008888")
    assert texts(app, "+15550008888", "hi again").priority == "low"
    # an earlier episode that was only high raises to high, never to critical
    texts(app, "+15550009999", "my boss took my passport", ago=DAY)
    close(alice, app, "sms:+15550009999")
    assert texts(app, "+15550009999", "thanks").priority == "high"
    assert texts(app, "+15550009999", CRITICAL_TEXT).priority == "critical"  # raised further


def test_episodes_keep_priority_quick_exit_and_reply_times(app, staff):
    r = app.redis
    token = web(app, "six")
    texts(app, token, CRITICAL_TEXT, channel="web", ago=900)
    cid = "web:" + token
    ref = ref_of(app, cid)
    alice = logged_in(app, "alice")
    privacy.remember(r, app.config["SECRET_KEY"], [cid], 3600)
    post(alice, f"/console/c/{ref}/claim")
    key = "0" * 32
    response = post(
        alice, f"/console/c/{ref}/reply", text="Are you safe?", key=key, confirm_stale="yes"
    )
    assert response.status_code == 303
    conv = store.conversation(r, cid)
    reply_at = float(conv["first_human_reply_ts"])
    assert float(conv["critical_reply_ts"]) == reply_at
    assert 899 < reply_at - float(conv["critical_since"]) < 960
    quick_exit(app.test_client(), token)
    (episode,) = history.episodes(store.conversation(r, cid))
    assert episode["by"] == "person" and episode["priority"] == "critical"
    assert episode["critical_reply_ts"] == pytest.approx(reply_at)
    conv = store.conversation(r, cid)
    assert "critical_since" not in conv and "first_human_reply_ts" not in conv
    texts(app, token, "hello", channel="web")
    html = alice.get(f"/console/c/{ref}").get_data(as_text=True)
    assert "the person left (quick exit)" in html
    assert "a person answered 15m" in html


def test_the_same_number_on_another_channel_is_shown(app, staff):
    alice = logged_in(app, "alice")
    texts(app, "+15550001212", CRITICAL_TEXT, ago=DAY)
    texts(app, "+15550001212", "hi", channel="whatsapp")
    ref = ref_of(app, "whatsapp:+15550001212")
    privacy.remember(app.redis, app.config["SECRET_KEY"], ["whatsapp:+15550001212"], 3600)
    html = alice.get(f"/console/c/{ref}").get_data(as_text=True)
    assert "The same number on sms" in html
    assert 'highest risk <span class="badge badge-critical">critical</span>' in html


def test_a_late_wrapup_goes_to_the_episode_it_belongs_to(app):
    r = app.redis
    cid = "sms:+15550003434"
    texts(app, "+15550003434", CRITICAL_TEXT, ago=3000)
    store.close(r, cid)
    r.hset(
        store.conv_key(cid), mapping={"outcome": "emergency_called", "wrapup_ts": repr(time.time())}
    )
    assert history.episodes(store.conversation(r, cid))[0]["outcome"] == "emergency_called"
    texts(app, "+15550003434", "hi")  # reopens after the wrap-up
    (first,) = history.episodes(store.conversation(r, cid))
    assert first["outcome"] == "emergency_called"
    store.close(r, cid)
    first, second = history.episodes(store.conversation(r, cid))
    assert first["outcome"] == "emergency_called" and "outcome" not in second
    assert second["priority"] == "high"


def test_closing_twice_keeps_one_episode(app):
    texts(app, "+15550005656", "hi")
    store.close(app.redis, "sms:+15550005656")
    store.close(app.redis, "sms:+15550005656", ended_by="person")
    conv = store.conversation(app.redis, "sms:+15550005656")
    assert len(history.episodes(conv)) == 1 and conv["ended_by"] == "operator"


# --- export (admins) --------------------------------------------------------------------------


def read_csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_export_is_masked_without_text_by_default_and_audit_logged(people, staff):
    root = logged_in(people, "root")
    rows = read_csv(post(root, "/console/search/export.csv"))
    assert len(rows) == 5
    assert {r["number"] for r in rows} == {
        "'+1•••••1111",
        "'+1•••••2222",
        "'+1•••••3333",
        people.fr,
        people.shelter,
    }
    assert "transcript" not in rows[0]
    body = post(root, "/console/search/export.csv").get_data(as_text=True)
    assert "5550001111" not in body and "passport" not in body and "sms:+1" not in body
    (event, _) = [e for e in audit.recent(people.redis) if e["action"] == "export_conversations"]
    assert event["actor"] == "root" and "5 rows" in event["note"]
    assert "no message text" in event["note"]


def test_export_with_text_is_audit_logged_as_such_and_follows_the_search(people, staff):
    root = logged_in(people, "root")
    rows = read_csv(post(root, "/console/search/export.csv", channel="sms", include_text="yes"))
    assert [r["number"] for r in rows] == ["'+1•••••3333", "'+1•••••1111"]
    assert "my boss took my passport" in rows[1]["transcript"]
    assert "Person:" in rows[1]["transcript"] and "Bot:" in rows[1]["transcript"]
    (event,) = [e for e in audit.recent(people.redis) if e["action"] == "export_conversations"]
    assert "MESSAGE TEXT INCLUDED" in event["note"] and "channel=sms" in event["note"]


def test_export_cells_cannot_run_in_a_spreadsheet(app, staff):
    texts(app, "web-abcdefgh9090", '=HYPERLINK("http://evil.example")', channel="web")
    root = logged_in(app, "root")
    (row,) = read_csv(post(root, "/console/search/export.csv", include_text="yes"))
    assert "=HYPERLINK" in row["transcript"] and not row["transcript"].startswith("=")


def test_export_is_for_admins_only(people, staff):
    alice = logged_in(people, "alice")
    assert post(alice, "/console/search/export.csv").status_code == 403
    html = alice.get("/console/search").get_data(as_text=True)
    assert 'id="export"' not in html
    assert 'id="export"' in logged_in(people, "root").get("/console/search").get_data(as_text=True)
    assert not [e for e in audit.recent(people.redis) if e["action"].startswith("export")]


def test_export_needs_the_csrf_token(people, staff):
    root = logged_in(people, "root")
    assert root.post("/console/search/export.csv").status_code == 400


# --- the index lives and dies with the conversations -----------------------------------------


def test_erase_and_the_sweep_take_conversations_out_of_the_indexes(app, staff):
    r = app.redis
    texts(app, "+15550001111", CRITICAL_TEXT)
    texts(app, "+15550002222", "hi")
    store.close(r, "sms:+15550001111")
    store.close(r, "sms:+15550002222")
    for index in (history.CONVS, history.CRITICAL, history.CLOSED):
        assert r.zscore(index, "sms:+15550001111") is not None
    store.erase(r, "sms:+15550001111")
    for index in (history.CONVS, history.CRITICAL, history.CLOSED):
        assert r.zscore(index, "sms:+15550001111") is None
    r.delete(store.conv_key("sms:+15550002222"))  # as if it expired
    assert r.zscore(history.CONVS, "sms:+15550002222") is not None
    retention.sweep(r, 3600)
    assert r.zcard(history.CONVS) == 0 and r.zcard(history.CLOSED) == 0
    alice = logged_in(app, "alice")
    assert found(alice) == []
    # the hourly counters hold no conversation id
    for key in r.scan_iter(match=history.STATS_PREFIX + "*"):
        assert not any(b"555" in f for f in r.hkeys(key))
