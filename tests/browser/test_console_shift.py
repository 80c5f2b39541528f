"""A shift in headless Chromium (issue 13): a canned answer picked with the keyboard, edited and
sent; a note and tags; the wrap-up on close; admins managing canned answers. Screenshots at
desktop (1280×800) and phone (390×844) size in tests/artifacts/, axe on every new page."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from bot import accounts, store
from tests.browser.helpers import DESKTOP, PHONE, axe_violations, log_in
from tests.helpers import PASSWORD, texts

pytestmark = pytest.mark.browser
SPANISH = "ayuda, mi jefe tiene mi pasaporte"
LEAVE_ES = "¿Puedes salir del lugar donde estás? ¿Hay alguien contigo ahora mismo?"


@pytest.fixture
def staff(app_config: dict[str, Any], live_app) -> None:
    accounts.create(live_app.redis, "alice", PASSWORD)
    accounts.create(live_app.redis, "root", PASSWORD, admin=True)


def take_over(page: Any, url: str, suffix: str) -> None:
    log_in(page, url, "alice")
    page.get_by_role("link", name=f"+1•••••{suffix}").first.click()
    page.get_by_role("button", name="Take over").click()
    expect(page.locator("#number")).to_contain_text(suffix)
    expect(page.locator("#close")).to_be_visible()


def test_a_canned_answer_is_picked_by_keyboard_edited_and_sent(
    fake_twilio, staff, live_app, live_server, page, artifacts
):
    texts(live_app, "+15550007171", SPANISH)
    page.set_viewport_size(DESKTOP)
    take_over(page, live_server.url, "7171")
    box = page.locator("#text")
    listbox = page.get_by_role("listbox", name="Canned answers")
    expect(box).to_have_attribute("role", "combobox")
    expect(box).to_have_attribute("aria-expanded", "false")

    box.click()
    page.keyboard.type("/saf")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    expect(options.first).to_have_attribute("data-lang", "es")  # the conversation's language first
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(options.first).to_contain_text("Safety")
    assert options.count() >= 12  # every safety answer, in es, then en and fr
    assert options.nth(options.count() - 1).get_attribute("data-lang") == "fr"
    expect(box).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))
    page.screenshot(path=str(artifacts / "console-canned-desktop.png"), full_page=True)
    assert axe_violations(page) == []

    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.first).to_have_attribute("aria-selected", "false")
    page.keyboard.press("Enter")
    expect(listbox).to_be_hidden()
    expect(box).to_have_value(LEAVE_ES)  # "/saf" replaced; the focus stays in the box
    assert page.evaluate("document.activeElement.id") == "text"

    # Escape closes the list and leaves what was typed
    page.keyboard.type(" /hot")
    expect(listbox).to_be_visible()
    expect(options.first).to_contain_text("Hotline number")
    page.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_value(LEAVE_ES + " /hot")
    for _ in range(5):
        page.keyboard.press("Backspace")
    expect(listbox).to_be_hidden()

    # at phone size: the list fits under the box
    page.set_viewport_size(PHONE)
    page.keyboard.type(" /clos")
    expect(listbox).to_be_visible()
    expect(options.first).to_contain_text("Closing message")
    listbox.scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts / "console-canned-phone.png"))
    page.keyboard.press("Escape")
    for _ in range(6):
        page.keyboard.press("Backspace")
    page.set_viewport_size(DESKTOP)

    page.keyboard.type(" Responde SÍ o NO.")
    expected = LEAVE_ES + " Responde SÍ o NO."
    expect(box).to_have_value(expected)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".flash-ok")).to_contain_text("Reply sent.")
    deadline = time.monotonic() + 5
    while not fake_twilio.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m["Body"] for m in fake_twilio.messages] == [expected]


def test_a_note_tags_and_the_wrap_up_on_close(staff, live_app, live_server, page, artifacts):
    texts(live_app, "+15550007272", "he is going to hurt me, he took my passport")
    page.set_viewport_size(DESKTOP)
    take_over(page, live_server.url, "7272")
    ref = page.url.rsplit("/", 1)[1]

    note = "Works at a farm outside town; safe to text after 9pm"
    page.get_by_label("Add a note").fill(note)
    page.get_by_role("button", name="Add note").click()
    notes = page.locator("#notes")
    expect(notes).to_contain_text(note)
    expect(notes).to_contain_text("alice")
    page.get_by_role("textbox", name="Tags").fill("labour, passport taken")
    page.get_by_role("button", name="Save tags").click()
    expect(page.get_by_role("list", name="Tags")).to_contain_text("passport taken")
    assert all(note not in e.text for e in store.transcript(live_app.redis, "sms:+15550007272"))

    # the holder cannot close without an outcome: the browser asks for it
    page.locator("#wrapup-form").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "console-wrapup-desktop.png"), full_page=True)
    assert axe_violations(page) == []
    page.get_by_role("button", name="Close conversation").click()
    assert page.locator("#wrapup-outcome").evaluate("e => e.validity.valueMissing")
    assert store.conversation(live_app.redis, "sms:+15550007272")["status"] == "open"

    page.set_viewport_size(PHONE)
    page.get_by_label("Outcome").select_option(label="Referred to the hotline")
    page.get_by_label("Kind of exploitation, if known").select_option("labour")
    page.get_by_label("Was a minor involved?").select_option("unknown")
    page.locator("#wrapup-form").scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts / "console-wrapup-phone.png"))
    page.get_by_role("button", name="Close conversation").click()
    expect(page.locator(".flash-ok")).to_contain_text("Conversation closed.")
    conv = store.conversation(live_app.redis, "sms:+15550007272")
    assert (conv["status"], conv["outcome"], conv["exploitation"], conv["minor"]) == (
        "closed",
        "referred_hotline",
        "labour",
        "unknown",
    )

    page.goto(f"{live_server.url}/console/c/{ref}")
    wrapup = page.locator("#wrapup")
    expect(wrapup).to_contain_text("Referred to the hotline")
    expect(wrapup).to_contain_text("Labour")
    expect(page.locator("#notes")).to_contain_text(note)
    wrapup.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "console-wrapup-closed-phone.png"))
    assert axe_violations(page) == []


def test_tags_show_in_the_queue_row(staff, live_app, live_server, page):
    texts(live_app, "+15550007373", "i need help")
    take_over(page, live_server.url, "7373")
    page.get_by_role("textbox", name="Tags").fill("repeat contact")
    page.get_by_role("button", name="Save tags").click()
    page.get_by_role("link", name="Queue", exact=True).first.click()
    expect(page.locator("#rows tr", has_text="7373")).to_contain_text("repeat contact")
    texts(live_app, "+15550007373", "are you there?")  # redrawn by the poller: still there
    page.wait_for_timeout(4000)
    expect(page.locator("#rows tr", has_text="7373")).to_contain_text("repeat contact")


def test_an_admin_manages_canned_answers(staff, live_server, page, artifacts):
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server.url, "root")
    page.get_by_role("link", name="Canned answers").click()
    expect(page.get_by_role("heading", name="Canned answers")).to_be_visible()
    expect(page.locator("#canned-table")).to_contain_text("Safety check: safe to text now?")
    assert axe_violations(page) == []
    page.screenshot(path=str(artifacts / "console-canned-admin.png"))

    page.get_by_label("Language", exact=True).select_option("fr")
    page.get_by_role("textbox", name="Title").fill("Documents")
    page.get_by_role("textbox", name="Text").fill(
        "Si quelqu'un garde vos papiers, appelez le {hotline}."
    )
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".flash-ok")).to_contain_text("Added “Documents” (fr).")
    row = page.locator("#canned-table tr", has_text="Documents")
    expect(row).to_contain_text(
        "Sent as: Si quelqu'un garde vos papiers, appelez le 1-888-373-7888."
    )

    row.get_by_role("link", name="Edit “Documents” (fr)").click()
    assert axe_violations(page) == []
    page.get_by_role("textbox", name="Title").fill("Papers kept by someone")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-ok")).to_contain_text("Saved “Papers kept by someone” (fr).")
    page.get_by_role("button", name="Delete “Papers kept by someone” (fr)").click()
    expect(page.locator(".flash-ok")).to_contain_text("Deleted")
    expect(page.locator("#canned-table")).not_to_contain_text("Papers kept by someone")

    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts / "console-canned-admin-phone.png"))
