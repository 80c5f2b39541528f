"""Find and remember, see the shift, in headless Chromium (issue 13): search by words and by
status, a repeat contact's history, the queue's filters staying live, the stats page and its
CSV export. Screenshots at desktop (1280×800) and phone (390×844) size in tests/artifacts/
(console-search-*.png, console-stats-*.png), axe on every page."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from bot import accounts, audit, history, store
from bot.widget import tokens
from tests.browser.helpers import DESKTOP, PHONE, axe_violations, log_in
from tests.helpers import CRITICAL_TEXT, PASSWORD, texts

pytestmark = pytest.mark.browser
DAY = 86400


@pytest.fixture
def staff(app_config: dict[str, Any], live_app) -> None:
    app_config["CONSOLE_POLL_SECONDS"] = 1
    accounts.create(live_app.redis, "alice", PASSWORD)
    accounts.create(live_app.redis, "root", PASSWORD, admin=True)


@pytest.fixture
def poll_fast(app_config: dict[str, Any]) -> None:
    app_config["CONSOLE_POLL_SECONDS"] = 1


def no_sideways_scroll(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def evening(app: Any) -> str:
    """Conversations of an evening; returns the web chat token of the one that left."""
    texts(app, "+15550001111", "my boss took my passport and I cannot leave", ago=3 * DAY)
    store.close(app.redis, "sms:+15550001111")
    texts(
        app,
        "+15550002222",
        "hola, mi jefe tiene mi pasaporte (passport)",
        ago=DAY,
        channel="whatsapp",
    )
    texts(app, "+15550003333", "he is coming back", ago=7 * DAY)
    store.close(app.redis, "sms:+15550003333")
    texts(app, "+15550003333", "hi again", ago=120)  # a repeat contact: high, not low
    token = tokens.new_token(app.config["SECRET_KEY"])
    texts(app, token, "they keep my passport at the farm", channel="web", ago=600)
    store.close(app.redis, "web:" + token, ended_by="person")  # the quick exit
    texts(app, "+15550004444", CRITICAL_TEXT, ago=300)
    texts(app, "+15550005555", "bonjour", ago=60)
    return token


def test_search_by_words_and_status_and_a_repeat_contact(
    poll_fast, staff, live_app, live_server, page, artifacts
):
    token = evening(live_app)
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server.url, "alice")
    page.get_by_role("link", name="Search").click()
    expect(page.get_by_role("heading", name="Search conversations")).to_be_visible()
    page.get_by_label("Words in the messages").fill("passport")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#found")).to_contain_text("3 conversations found")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("quick exit")  # the web chat, 10 minutes ago
    expect(rows.nth(0)).to_contain_text("•••••" + token[-4:])
    expect(rows.nth(1)).to_contain_text("+1•••••2222")
    expect(rows.nth(2)).to_contain_text("+1•••••1111")
    expect(rows.nth(2)).to_contain_text("closed")
    assert "text=passport" in page.url  # bookmarkable
    page.screenshot(path=str(artifacts / "console-search-desktop.png"), full_page=True)
    assert axe_violations(page) == []

    page.get_by_label("Status").select_option("quick_exit")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(page.locator("#found")).to_contain_text("1 conversation found")

    page.set_viewport_size(PHONE)
    page.get_by_label("Words in the messages").fill("")
    page.get_by_label("Status").select_option("")
    page.get_by_label("Number ends with").fill("3333")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("high")
    expect(rows.nth(0)).to_contain_text("was critical")
    expect(rows.nth(0)).to_contain_text("wrote 1 time before")
    no_sideways_scroll(page, PHONE["width"])
    page.screenshot(path=str(artifacts / "console-search-phone.png"), full_page=True)
    assert axe_violations(page) == []

    rows.nth(0).get_by_role("link").click()
    history_box = page.locator("#history")
    expect(history_box).to_contain_text("Wrote before: 1 earlier conversation")
    expect(history_box).to_contain_text("highest risk")
    expect(history_box.locator(".badge-critical").first).to_be_visible()
    no_sideways_scroll(page, PHONE["width"])
    page.screenshot(path=str(artifacts / "console-search-history-phone.png"), full_page=True)
    assert axe_violations(page) == []
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(artifacts / "console-search-history-desktop.png"))


def test_queue_filters_stay_live(poll_fast, staff, live_app, live_server, page, artifacts):
    texts(live_app, "+15550006001", "hola", ago=200)
    texts(live_app, "+15550006002", "hi", ago=100)
    texts(live_app, "+15550006003", CRITICAL_TEXT, ago=50)
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server.url, "alice")
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#rows tr")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("+1•••••6001")
    expect(page.locator("#filtered")).to_contain_text("language es")
    assert "language=es" in page.url
    texts(live_app, "+15550006004", "necesito ayuda")  # Spanish: appears
    texts(live_app, "+15550006005", "hello there")  # English: does not
    expect(rows).to_have_count(2)
    expect(page.locator("#count")).to_have_text("(2 open)")
    page.wait_for_timeout(1500)
    expect(rows).to_have_count(2)
    expect(page.locator("#overdue")).to_be_hidden()
    page.screenshot(path=str(artifacts / "console-search-queue-filters.png"), full_page=True)
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    form = page.locator(".queue-filters")
    assert form.bounding_box()["width"] <= PHONE["width"]
    page.screenshot(path=str(artifacts / "console-search-queue-filters-phone.png"))
    page.set_viewport_size(DESKTOP)
    page.get_by_role("link", name="Show all").click()
    expect(rows).to_have_count(5)


def shift(app: Any) -> None:
    """An evening's critical conversations, reached by a person after 2, 4 and 10 minutes, one
    waiting, one closed without a reply; and others in three languages on three channels."""
    r = app.redis
    for n, (ago, after) in enumerate([(40, 2), (30, 4), (20, 10), (12, None), (50, None)]):
        number = f"+155500090{n:02d}"
        channel = "whatsapp" if n == 1 else "sms"
        texts(app, number, CRITICAL_TEXT, ago=ago * 60, channel=channel)
        cid = f"{channel}:{number}"
        if after:
            store.claim(r, cid, "alice")
            since = float(store.conversation(r, cid)["critical_since"])
            history.human_replied(r, cid, since + after * 60)
        if n == 4:
            store.close(r, cid)
    for n, (text, ago) in enumerate(
        [
            ("hola", 5),
            ("bonjour", 8),
            ("hi", 90),
            ("thanks", 200),
            ("my boss took my passport", 400),
            ("hello", 700),
        ]
    ):
        texts(app, f"+155500091{n:02d}", text, ago=ago * 60)
    token = tokens.new_token(app.config["SECRET_KEY"])
    texts(app, token, "can I talk to a real person", channel="web", ago=15 * 60)
    store.close(r, "web:" + token, ended_by="person")
    texts(app, "+15550009200", "they took my documents", ago=100 * 60)
    store.close(r, "sms:+15550009200")
    r.hset(
        store.conv_key("sms:+15550009200"),
        mapping={
            "outcome": "referred_hotline",
            "exploitation": "labour",
            "minor": "no",
            "wrapup_ts": repr(time.time()),
        },
    )


def test_stats_page_and_export(staff, live_app, live_server, page, artifacts):
    shift(live_app)
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server.url, "root")
    page.get_by_role("link", name="Stats").click()
    expect(page.get_by_role("heading", name="The shift")).to_be_visible()
    expect(page.locator("#stat-messages")).to_have_text("13")
    expect(page.locator("#stat-median")).to_have_text("4m 00s")
    expect(page.locator("#stat-p90")).to_have_text("10m 00s")
    expect(page.locator("#stat-share")).to_have_text("40%")
    expect(page.locator("#stat-overdue")).to_have_text("1")
    expect(page.locator("#by-channel")).to_contain_text("whatsapp")
    expect(page.locator("#closed")).to_contain_text("The person left (quick exit)")
    expect(page.get_by_text("Referred to the hotline")).to_be_visible()
    page.screenshot(path=str(artifacts / "console-stats-desktop.png"), full_page=True)
    assert axe_violations(page) == []

    with page.expect_download() as info:
        page.get_by_role("button", name="These figures").click()
    body = Path(info.value.path()).read_text(encoding="utf-8-sig")
    assert body.startswith("section,name,value") and "median_seconds,240.0" in body
    assert "555" not in body
    assert [e["action"] for e in audit.recent(live_app.redis)][0] == "export_stats"

    page.set_viewport_size(PHONE)
    page.get_by_role("link", name="last 7 days").click()
    expect(page.locator("h1")).to_contain_text("last 7 days")
    no_sideways_scroll(page, PHONE["width"])
    page.screenshot(path=str(artifacts / "console-stats-phone.png"), full_page=True)
    assert axe_violations(page) == []
