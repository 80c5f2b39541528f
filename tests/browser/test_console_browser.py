"""The operator console in real headless Chromium: login, live queue, take over, reply, escaping."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from bot import accounts
from tests.browser.helpers import axe_violations, log_in
from tests.helpers import CRITICAL_TEXT, PASSWORD, texts

pytestmark = pytest.mark.browser
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> help'


@pytest.fixture
def console(app_config: dict[str, Any]) -> dict[str, Any]:
    """Poll every second so live updates show quickly."""
    app_config["CONSOLE_POLL_SECONDS"] = 1
    return app_config


@pytest.fixture
def staff(console, live_app) -> None:
    for name in ("alice", "bob"):
        accounts.create(live_app.redis, name, PASSWORD)


def test_logged_out_access_is_refused(staff, live_server, page):
    page.goto(live_server.url + "/console/")
    assert "/console/login?next=" in page.url
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert page.request.get(live_server.url + "/console/api/queue").status == 401
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong name or password")
    assert axe_violations(page) == []


def test_queue_updates_live_and_flags_overdue(staff, live_app, live_server, page, artifacts):
    texts(live_app, "+15550003333", "hi", ago=900)
    texts(live_app, "+15550004444", CRITICAL_TEXT, ago=20)
    log_in(page, live_server.url, "alice")
    rows = page.locator("#rows tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("critical")
    expect(rows.nth(0)).to_contain_text("+1•••••4444")
    expect(rows.nth(1)).to_contain_text("low")
    expect(page.locator("#overdue")).to_be_hidden()
    page.evaluate("window.__sameDocument = true")

    texts(live_app, "+15550005555", "im locked in the back room", ago=400)
    texts(live_app, "web-abcdefgh7777", "can I talk to a real person", channel="web", ago=30)
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("overdue")
    expect(rows.nth(0)).to_contain_text("+1•••••5555")
    expect(page.locator("#overdue")).to_contain_text("1 critical conversation(s) unclaimed")
    expect(page.locator("tr", has_text="7777")).to_contain_text("web")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    page.wait_for_function("Number(document.body.dataset.beeps || 0) >= 1")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.screenshot(path=str(artifacts / "console-queue.png"), full_page=True)
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 1024, "height": 700})  # a small laptop: no sideways scroll
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024

    page.get_by_role("button", name="Sound on (mute)").click()
    assert page.evaluate("localStorage.getItem('console.muted')") == "1"
    page.reload()
    expect(page.get_by_role("button", name="Sound off (unmute)")).to_be_visible()
    page.wait_for_timeout(1500)
    assert page.evaluate("document.body.dataset.beeps") is None


@pytest.fixture
def two_a_page(console: dict[str, Any]) -> None:
    console["CONSOLE_QUEUE_PAGE_SIZE"] = 2


def test_a_later_page_stays_live_and_flags_an_overdue_critical(
    two_a_page, staff, live_app, live_server, page
):
    for n in range(5):
        texts(live_app, f"+1555000810{n}", "hi", ago=900 - n)
    log_in(page, live_server.url, "alice")
    expect(page.locator("#count")).to_have_text("(5 open)")
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("#page-of")).to_have_text("Page 2 of 3")
    expect(page.locator("#rows tr")).to_have_count(2)
    expect(page.locator("#rows tr").nth(0)).to_contain_text("+1•••••8102")

    texts(live_app, "+15550008200", "im locked in the back room", ago=400)
    expect(page.locator("#count")).to_have_text("(6 open)")
    expect(page.locator("#counts")).to_contain_text("1 critical")
    expect(page.locator("#overdue")).to_contain_text("1 critical conversation(s) unclaimed")
    expect(page.locator("#page-of")).to_have_text("Page 2 of 3")  # 1 critical + 1 low on page 1
    expect(page.locator("#rows tr").nth(0)).to_contain_text("+1•••••8101")
    page.get_by_role("link", name="see page 1").click()
    expect(page.locator("#rows tr").nth(0)).to_contain_text("overdue")


def test_claim_and_reply_reaches_twilio(fake_twilio, staff, live_app, live_server, page, artifacts):
    texts(live_app, "+15550003333", "hi", ago=900)
    texts(live_app, "+15550004444", "my boss took my passport", ago=240)
    texts(live_app, "+15550004444", CRITICAL_TEXT, ago=200)
    page.set_viewport_size({"width": 1366, "height": 800})
    log_in(page, live_server.url, "alice")
    rows = page.locator("#rows tr")
    expect(rows.nth(0)).to_contain_text("critical")
    expect(rows.nth(1)).to_contain_text("low")
    page.get_by_role("link", name="+1•••••4444").click()
    expect(page.locator("#number")).to_have_text("+1•••••4444")
    page.get_by_role("button", name="Take over").click()
    expect(page.get_by_role("status")).to_contain_text("You hold this conversation")
    expect(page.locator("#number")).to_have_text("+15550004444")  # full number for the holder
    page.get_by_label("Reply by SMS").fill("This is Alice from the hotline. Are you safe now?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("Reply sent.")
    last = page.locator("#transcript li").last
    expect(last).to_contain_text("Operator alice")
    expect(last).to_contain_text("Are you safe now?")
    deadline = time.monotonic() + 5
    while not fake_twilio.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    (sent,) = fake_twilio.messages
    assert sent["To"] == "+15550004444"
    assert sent["Body"] == "This is Alice from the hotline. Are you safe now?"
    page.screenshot(path=str(artifacts / "console-conversation.png"), full_page=True)
    assert axe_violations(page) == []


def test_second_operator_cannot_claim(staff, live_app, live_server, browser, page):
    texts(live_app, "web-abcdefgh8888", "i need help", channel="web")
    log_in(page, live_server.url, "alice")
    other = browser.new_context()
    try:
        bob = other.new_page()
        log_in(bob, live_server.url, "bob")
        page.get_by_role("link", name="•••••8888").click()
        bob.get_by_role("link", name="•••••8888").click()
        page.get_by_role("button", name="Take over").click()
        expect(page.get_by_role("status")).to_contain_text("You hold this conversation")
        bob.get_by_role("button", name="Take over").click()
        expect(bob.get_by_role("alert")).to_contain_text(
            "Not claimed: alice already holds this conversation."
        )
        expect(bob.get_by_role("button", name="Take over")).to_have_count(0)
        expect(bob.get_by_role("button", name="Send")).to_have_count(0)
    finally:
        other.close()


def test_transcript_with_script_shows_as_text(staff, live_app, live_server, page):
    texts(live_app, "+15550006666", HOSTILE)
    log_in(page, live_server.url, "alice")
    expect(page.locator("#rows")).to_contain_text("<script>window.__pwned=1</script>")
    page.get_by_role("link", name="+1•••••6666").click()
    expect(page.locator("#transcript")).to_contain_text("<script>window.__pwned=1</script>")
    texts(live_app, "+15550006666", HOSTILE.replace("help", "again"))  # rendered by the poller
    expect(page.locator("#transcript")).to_contain_text("again")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#transcript img").count() == 0
