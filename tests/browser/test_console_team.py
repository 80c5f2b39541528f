"""Working as a team in real headless Chromium: the console on a phone (390×844), the holder
panel and a transfer, keyboard shortcuts, the title badge and desktop notifications for a new
critical conversation, the quick exit named, and axe on every console page. Screenshots at
desktop (1280×800) and phone (390×844) size in tests/artifacts/."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from bot import accounts
from tests.browser.helpers import DESKTOP, PHONE, axe_violations, log_in
from tests.helpers import CRITICAL_TEXT, PASSWORD, texts

pytestmark = pytest.mark.browser


@pytest.fixture
def staff(app_config: dict[str, Any], live_app) -> None:
    """alice and bob (operators) and root (admin); the console polls every second."""
    app_config["CONSOLE_POLL_SECONDS"] = 1
    live_app.config["CONSOLE_POLL_SECONDS"] = 1
    for name, admin in (("alice", False), ("bob", False), ("root", True)):
        accounts.create(live_app.redis, name, PASSWORD, admin=admin)


def no_sideways_scroll(page: Any) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def fill_queue(app: Any) -> None:
    texts(app, "+15550010004", CRITICAL_TEXT, ago=200)
    texts(app, "+15550020004", "my boss took my passport and says I owe him money", ago=100)
    texts(app, "web-abcdefgh9999", "can I talk to a real person", channel="web", ago=60)
    texts(app, "+15550030303", "hi", ago=30)


def test_queue_and_conversation_are_usable_on_a_phone(
    staff, live_app, live_server, page, artifacts
):
    fill_queue(live_app)
    texts(live_app, "+15550010004", "call me back on 1-888-373-7888 or +1 (555) 000-1234 now")
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, "alice")
    rows = page.locator("#rows tr")
    expect(rows).to_have_count(4)
    no_sideways_scroll(page)
    first = rows.nth(0).locator("a.open")
    expect(first).to_be_visible()
    expect(first).to_be_in_viewport()
    box = first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # two numbers that mask alike still look different
    looks = rows.locator("a.open").all_inner_texts()
    assert sum("+1•••••0004" in look for look in looks) == 2 and len(set(looks)) == 4
    expect(rows.nth(0).locator(".reason")).to_contain_text("“he is going to hurt me”")
    page.screenshot(path=str(artifacts / "console-queue-phone.png"), full_page=True)
    assert axe_violations(page) == []

    first.click()
    expect(page.locator("#number")).to_have_text("+1•••••0004")
    no_sideways_scroll(page)
    expect(page.locator("#holder-text")).to_contain_text("Nobody holds this conversation")
    tel = page.locator("#transcript a.tel").first
    expect(tel).to_have_attribute("href", "tel:18883737888")
    assert tel.evaluate("el => getComputedStyle(el).whiteSpace") == "nowrap"
    page.get_by_role("button", name="Take over").click()
    expect(page.locator("#holder-text")).to_contain_text("You hold this conversation")
    reply = page.get_by_label("Reply by SMS")
    reply.scroll_into_view_if_needed()
    expect(reply).to_be_in_viewport()
    no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / "console-conversation-phone.png"), full_page=True)
    assert axe_violations(page) == []

    page.goto(live_server.url + "/console/team")
    no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / "console-team-page-phone.png"), full_page=True)


def test_the_holder_panel_and_a_transfer(staff, live_app, live_server, browser, page, artifacts):
    fill_queue(live_app)
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server.url, "alice")
    page.locator("#rows tr").nth(0).locator("a.open").click()
    page.get_by_role("button", name="Take over").click()
    expect(page.locator("#holder-text")).to_contain_text("You hold this conversation")
    url = page.url
    other = browser.new_context(viewport=DESKTOP)
    try:
        bob = other.new_page()
        log_in(bob, live_server.url, "bob")
        expect(bob.locator("#team-list")).to_contain_text("alice")
        expect(bob.locator("#team-list li", has_text="alice")).to_contain_text("online")
        expect(bob.locator("#team-list li", has_text="alice")).to_contain_text("holds 1")
        bob.goto(url)
        panel = bob.locator("#holder-panel")
        expect(panel).to_be_visible()
        expect(panel).to_contain_text(
            "alice holds this conversation. alice is online. You can read it; ask alice or "
            "an admin to transfer it."
        )
        expect(bob.locator("#transfer-to")).to_have_count(0)
        bob.screenshot(path=str(artifacts / "console-team-holder-panel.png"), full_page=True)
        assert axe_violations(bob) == []

        page.get_by_text("Transfer to another operator").click()  # folded for the holder
        page.get_by_label("Transfer to").select_option("bob")
        page.get_by_role("button", name="Transfer", exact=True).click()
        expect(page.get_by_role("status").first).to_contain_text("Transferred to bob.")
        expect(page.locator("#holder-text")).to_contain_text(
            "bob holds this conversation. bob is online. You can read it; ask bob"
        )
        expect(page.locator("#transcript")).to_contain_text(
            "Transferred from alice to bob by alice."
        )
        bob.reload()
        expect(bob.locator("#holder-text")).to_contain_text("You hold this conversation")
        expect(bob.locator("#number")).to_have_text("+15550010004")  # the holder sees it all
        bob.goto(live_server.url + "/console/team")
        expect(bob.locator("#team-rows tr", has_text="bob")).to_contain_text("+15550010004")
        bob.screenshot(path=str(artifacts / "console-team-page.png"), full_page=True)
        assert axe_violations(bob) == []
    finally:
        other.close()


def test_keyboard_shortcuts(staff, live_app, live_server, page, artifacts):
    fill_queue(live_app)
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server.url, "alice")
    expect(page.locator("#rows tr")).to_have_count(4)
    no_sideways_scroll(page)  # the reasons under the priorities do not widen the table
    page.set_viewport_size({"width": 1024, "height": 700})
    no_sideways_scroll(page)
    page.set_viewport_size(DESKTOP)
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Next / previous conversation in the queue")
    page.screenshot(path=str(artifacts / "console-team-shortcuts.png"))
    assert axe_violations(page) == []
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("j")  # the second row
    second = page.locator("#rows tr").nth(1)
    expect(second).to_have_class("row prio-high selected")
    target = second.locator("a.open").get_attribute("href")
    texts(live_app, "+15550040404", "hello")  # the queue redraws: the selection stays
    expect(page.locator("#rows tr")).to_have_count(5)
    expect(page.locator("#rows tr.selected a.open")).to_have_attribute("href", target)
    page.keyboard.press("Enter")
    page.wait_for_url("**" + target)
    page.wait_for_load_state("load")
    page.keyboard.press("t")
    expect(page.locator("#holder-text")).to_contain_text("You hold this conversation")
    page.wait_for_load_state("load")  # the shortcuts listen once the page's scripts ran
    page.keyboard.press("r")
    expect(page.get_by_label("Reply by SMS")).to_be_focused()
    page.keyboard.type("just typing q j k t")  # never a shortcut while typing
    assert page.url.endswith(target)
    expect(page.get_by_label("Reply by SMS")).to_have_value("just typing q j k t")
    page.locator("h2", has_text="Transcript").click()  # out of the box
    page.keyboard.press("q")
    page.wait_for_url("**/console/")
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()


STUB_NOTIFICATIONS = """
window.__notes = [];
window.__asked = 0;
function FakeNotification(title, options) {
  window.__notes.push({title: title, body: (options || {}).body, tag: (options || {}).tag});
}
// the browser remembers a permission for the site: so does this stub
FakeNotification.permission = localStorage.getItem("__permission") || "default";
FakeNotification.requestPermission = function () {
  window.__asked += 1;
  FakeNotification.permission = "granted";
  localStorage.setItem("__permission", "granted");
  return Promise.resolve("granted");
};
window.Notification = FakeNotification;
"""


def test_title_badge_and_desktop_notification_for_a_new_critical_conversation(
    staff, live_app, live_server, page, artifacts
):
    texts(live_app, "+15550030303", "hi")
    page.add_init_script(STUB_NOTIFICATIONS)
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server.url, "alice")
    expect(page).to_have_title("Queue · Triage line")
    page.wait_for_function("() => document.body.dataset.critical === '0'")
    assert page.evaluate("window.__asked") == 0  # never asked on load
    button = page.get_by_role("button", name="Turn on desktop alerts")
    button.click()
    expect(page.get_by_role("button", name="Desktop alerts on")).to_be_disabled()
    assert page.evaluate("window.__asked") == 1

    texts(live_app, "+15550050505", CRITICAL_TEXT)
    expect(page).to_have_title("(1) Queue · Triage line")
    page.wait_for_function("() => window.__notes.length === 1")
    (note,) = page.evaluate("window.__notes")
    assert note["title"] == "New critical conversation"
    assert "+1•••••0505" in note["body"] and "hurt" not in note["body"]  # no message text
    page.screenshot(path=str(artifacts / "console-team-badge.png"))
    # a second tab (or page) of the same browser does not announce it again
    page.goto(live_server.url + "/console/team")
    expect(page).to_have_title("(1) Team · Triage line")
    page.wait_for_timeout(1500)
    assert page.evaluate("window.__notes.length") == 0  # a new page: its own stub, no repeat
    texts(live_app, "+15550060606", CRITICAL_TEXT)
    expect(page).to_have_title("(2) Team · Triage line")
    page.wait_for_function("() => window.__notes.length === 1")
    page.goto(live_server.url + "/console/")
    page.locator("#rows tr", has_text="0505").locator("a.open").click()
    page.get_by_role("button", name="Take over").click()
    expect(page).to_have_title(
        "(1) Conversation +15550050505 #" + page.url.rsplit("/", 1)[1][:4] + " · Triage line"
    )


def test_the_quick_exit_is_named_in_the_conversation(staff, live_app, live_server, page, artifacts):
    started = page.request.post(live_server.url + "/chat/api/start")
    token = started.json()["token"]
    page.request.post(
        live_server.url + "/chat/api/messages",
        data={"token": token, "text": "he watches my phone", "since": 0},
    )
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server.url, "alice")
    page.locator("#rows tr", has_text=token[-4:]).locator("a.open").click()
    expect(page.locator("#transcript")).to_contain_text("he watches my phone")
    page.request.post(live_server.url + "/chat/api/end", data={"token": token})
    notice = page.locator("#changed")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("The person left (quick exit).")
    expect(notice).not_to_contain_text("This conversation changed")
    expect(page.locator("#holder-text")).to_contain_text("The person left (quick exit).")
    page.screenshot(path=str(artifacts / "console-team-quick-exit.png"), full_page=True)
    page.reload()
    expect(page.locator("#holder-text")).to_contain_text("The person left (quick exit).")


def console_pages(app: Any) -> list[str]:
    """Every console page a GET without arguments shows (others' new pages included)."""
    pages = []
    for rule in app.url_map.iter_rules():
        if (
            rule.endpoint.startswith("console.")
            and "GET" in rule.methods
            and not rule.arguments
            and "/api/" not in rule.rule
            and rule.endpoint not in ("console.static",)
            and rule.rule != "/console"
            and not rule.rule.endswith((".csv", "/export"))
        ):
            pages.append(rule.rule)
    return sorted(set(pages))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_console_page_passes_axe(staff, live_app, live_server, page, viewport):
    fill_queue(live_app)
    page.set_viewport_size(viewport)
    page.goto(live_server.url + "/console/login")
    assert axe_violations(page) == [], "login"
    log_in(page, live_server.url, "root")
    urls = console_pages(live_app)
    assert {"/console/", "/console/team", "/console/operators", "/console/audit"} <= set(urls)
    ref = page.locator("#rows tr").nth(0).locator("a.open").get_attribute("href")
    found = {}
    for url in [*urls, ref]:
        if url.endswith(("/login", "/logout")):
            continue
        response = page.goto(live_server.url + url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        found[url] = axe_violations(page)
        if viewport == PHONE and url in ("/console/", ref, "/console/team"):
            no_sideways_scroll(page)
    assert {url: problems for url, problems in found.items() if problems} == {}
