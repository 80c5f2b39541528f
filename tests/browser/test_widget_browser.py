"""The chat widget in headless Chromium, phone and desktop: chat, quick exit, offline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from bot import store
from bot.replies import reply_text
from tests.browser.helpers import axe_violations, chat_lines, traces
from tests.helpers import HOTLINE

pytestmark = pytest.mark.browser
SIZES = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture(params=list(SIZES))
def sized(request, browser) -> Iterator[tuple[str, Any]]:
    """A page at phone or desktop size, with its name for screenshots."""
    name = request.param
    context = browser.new_context(viewport=SIZES[name], is_mobile=name == "phone", locale="en-US")
    yield name, context.new_page()
    context.close()


def bot_reply(app: Any, key: str, language: str) -> str:
    line = app.extensions["line"]
    return reply_text(line.content.replies, key, language, line.numbers)


def open_chat(page: Any, url: str) -> None:
    page.goto(url + "/")
    expect(page.get_by_role("button", name="Chat with us")).to_be_visible()
    page.get_by_role("button", name="Chat with us").click()
    expect(page.get_by_label("Your message")).to_be_focused()


def send(page: Any, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.keyboard.press("Enter")


def token_of(page: Any) -> str:
    return page.evaluate("() => sessionStorage.getItem('tlw.token')")


def test_chat_help_and_ayuda_at_phone_and_desktop(
    neutral, live_app, live_server, sized, artifacts, redis_client
):
    name, page = sized
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(live_server.url)
            else problems.append("third-party request: " + r.url)
        ),
    )
    page.goto(live_server.url + "/")
    exit_button = page.get_by_role("button", name="Quick exit")
    expect(exit_button).to_be_visible()
    page.screenshot(path=str(artifacts / f"widget-{name}-closed.png"))

    # Keyboard only: Tab reaches the chat button, Enter opens it, focus lands in the box.
    launcher = page.get_by_role("button", name="Chat with us")
    for _ in range(30):
        page.keyboard.press("Tab")
        if launcher.evaluate("b => b.getRootNode().activeElement === b"):
            break
    assert launcher.evaluate("b => getComputedStyle(b).outlineStyle") != "none"
    page.keyboard.press("Enter")
    box = page.get_by_label("Your message")
    expect(box).to_be_focused()
    expect(exit_button).to_be_visible()
    assert page.locator(".log").get_attribute("aria-live") == "polite"

    send(page, "help")
    expect(chat_lines(page).last).to_contain_text(bot_reply(live_app, "help", "en"))
    expect(chat_lines(page).last).to_contain_text(HOTLINE)
    send(page, "ayuda")
    expect(chat_lines(page).last).to_contain_text(bot_reply(live_app, "help", "es"))
    # The bot read Spanish: the widget (every label so far) and the page switch to it.
    box = page.get_by_label("Tu mensaje")
    expect(box).to_have_value("")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert [m.split(":", 1)[0] for m in chat_lines(page).all_inner_texts()] == [
        "Respuesta automática",
        "Tú",
        "Respuesta automática",
        "Tú",
        "Respuesta automática",
    ]
    token = token_of(page)
    assert store.conversation(redis_client, f"web:{token}")["channel"] == "web"
    seen = traces(page)
    assert sorted(seen["session"]) == ["tlw.lang", "tlw.open", "tlw.token"]  # sessionStorage only
    assert seen["local"] == [] and seen["cookie"] == ""
    assert page.context.cookies() == []
    # Nothing overflows a 360 px screen; the panel stays inside the viewport.
    width = SIZES[name]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    panel = page.locator(".panel").bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= width
    page.screenshot(path=str(artifacts / f"widget-{name}-open.png"))
    assert axe_violations(page) == []
    page.get_by_role("button", name="Minimizar").click()
    expect(page.get_by_role("button", name="Chatea con nosotros")).to_be_focused()
    assert axe_violations(page) == []
    assert problems == []  # no script error, no CSP refusal, nothing fetched from elsewhere


def test_operator_reply_appears_without_reload(neutral, live_server, page, redis_client):
    open_chat(page, live_server.url)
    send(page, "can I talk to a real person")
    expect(chat_lines(page)).to_have_count(3)
    page.evaluate("window.__sameDocument = true")
    cid = f"web:{token_of(page)}"
    store.append_entry(redis_client, cid, store.Entry("out", "operator:ana", "Hi, I'm Ana."), 3600)
    expect(chat_lines(page).last).to_have_text("Advocate: Hi, I'm Ana.", timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True
    # Minimised, a new operator line shows as a count on the chat button.
    page.get_by_role("button", name="Minimise").click()
    store.append_entry(redis_client, cid, store.Entry("out", "operator:ana", "Still here?"), 3600)
    expect(page.get_by_role("button", name="Chat with us 1 new")).to_be_visible(timeout=10_000)
    # A reload in the same tab brings the conversation back (sessionStorage), once.
    page.reload()
    expect(chat_lines(page)).to_have_count(5)


@pytest.mark.parametrize("how", ["button", "escape", "shift"])
def test_quick_exit_leaves_no_trace(neutral, live_server, page, redis_client, how):
    page.goto(neutral.url + "/before")
    open_chat(page, live_server.url)
    send(page, "he is going to hurt me")
    expect(chat_lines(page)).to_have_count(3)
    cid = f"web:{token_of(page)}"
    before = page.evaluate("history.length")

    if how == "button":
        page.get_by_role("button", name="Quick exit").click()
    elif how == "escape":
        page.keyboard.press("Escape")
    else:
        note = page.locator("[data-r=shift]")
        page.keyboard.press("Shift")
        expect(note).to_have_text("Shift: press 2 more times to exit.")
        page.keyboard.press("Shift")
        expect(note).to_have_text("Shift: press 1 more time to exit.")
        page.keyboard.press("Shift")

    page.wait_for_url(neutral.url + "/weather")
    assert page.evaluate("history.length") == before  # replaced, not pushed
    deadline = time.monotonic() + 5
    while store.conversation(redis_client, cid).get("status") != "closed":
        assert time.monotonic() < deadline, "the end beacon did not close the conversation"
        time.sleep(0.05)
    assert store.queue(redis_client) == []

    page.go_back()
    assert page.url == neutral.url + "/before"  # Back skips the chat entirely
    page.go_forward()
    assert page.url == neutral.url + "/weather"

    # Back on the chat's origin in the same tab: no storage, no cookie, no chat restored.
    page.goto(live_server.url + "/")
    assert traces(page) == {"session": [], "local": [], "cookie": ""}
    assert page.context.cookies() == []
    expect(page.get_by_role("button", name="Chat with us")).to_be_visible()
    assert chat_lines(page).count() == 1  # only the greeting


def test_shift_sequence_expires_and_typing_does_not_count(neutral, live_server, page):
    open_chat(page, live_server.url)
    note = page.locator("[data-r=shift]")
    page.keyboard.press("Shift")
    expect(note).to_have_text("Shift: press 2 more times to exit.")
    expect(note).to_have_text("Quick exit timed out.", timeout=7000)
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.keyboard.type("Hello There")  # capitals use Shift with another key: not an exit
    page.keyboard.press("Shift+Enter")
    time.sleep(0.3)
    assert page.url == live_server.url + "/"
    expect(page.get_by_label("Your message")).to_have_value("Hello There\n")


@pytest.mark.parametrize("size", list(SIZES))
def test_server_down_shows_the_hotline(neutral, live_server, browser, artifacts, size):
    context = browser.new_context(viewport=SIZES[size], is_mobile=size == "phone")
    page = context.new_page()
    open_chat(page, live_server.url)
    live_server.stop()
    send(page, "help")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("can't reach the chat")
    expect(alert).to_contain_text(HOTLINE)
    expect(alert).to_contain_text("233733")
    expect(alert).to_contain_text("Call 911")
    expect(page.get_by_label("Your message")).to_have_value("help")  # nothing lost
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    page.screenshot(path=str(artifacts / f"widget-{size}-offline.png"))
    assert axe_violations(page) == []
    context.close()


def test_a_server_that_never_answers_gives_up_after_8_seconds(neutral, live_server, page):
    open_chat(page, live_server.url)
    page.route("**/chat/api/**", lambda route: None)  # swallow requests: no answer ever
    started = time.monotonic()
    send(page, "help")
    expect(page.get_by_role("alert")).to_contain_text(HOTLINE, timeout=12_000)
    assert 7 < time.monotonic() - started < 12


def test_embedded_on_another_site_with_one_tag(neutral, live_server, page, redis_client):
    neutral.widget_src = live_server.url + "/widget.js"
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
    page.goto(neutral.url + "/embed")
    launcher = page.get_by_role("button", name="Chat with us")
    assert launcher.evaluate("b => getComputedStyle(b).position") == "fixed"  # styled under CSP
    launcher.click()
    send(page, "help")
    expect(chat_lines(page).last).to_contain_text(HOTLINE)
    assert len(store.queue(redis_client)) == 1
    assert page.context.cookies() == []
    assert refused == []


def test_ui_language_follows_the_browser(neutral, live_server, browser):
    for locale, button, label in [
        ("es-MX", "Chatea con nosotros", "Tu mensaje"),
        ("fr-FR", "Discuter avec nous", "Votre message"),
    ]:
        context = browser.new_context(locale=locale)
        page = context.new_page()
        page.goto(live_server.url + "/")
        page.get_by_role("button", name=button).click()
        expect(page.get_by_label(label)).to_be_focused()
        expect(
            page.get_by_role(
                "button", name="Salida rápida" if locale == "es-MX" else "Sortie rapide"
            )
        ).to_be_visible()
        context.close()


@pytest.mark.parametrize(
    ("locale", "label", "note"),
    [
        ("en-US", "Your message", "You are sending messages faster than we can read them."),
        ("es-MX", "Tu mensaje", "Estás enviando mensajes más rápido de lo que podemos leerlos."),
    ],
)
def test_too_many_messages_shows_a_kind_note_and_keeps_the_text(
    neutral, live_app, live_server, browser, redis_client, locale, label, note
):
    live_app.config["WIDGET_MESSAGES_PER_MINUTE"] = 2
    context = browser.new_context(locale=locale)
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.locator(".launch").click()
    box = page.get_by_label(label)
    for text in ["help", "hello"]:
        box.fill(text)
        page.keyboard.press("Enter")
        expect(box).to_have_value("")
    expect(chat_lines(page)).to_have_count(5)
    box.fill("please can someone call me tonight")
    page.keyboard.press("Enter")
    status = page.locator(".status")
    expect(status).to_contain_text(note)
    expect(box).to_have_value("please can someone call me tonight")  # nothing lost
    expect(chat_lines(page)).to_have_count(5)  # not shown as sent
    assert len(store.transcript(redis_client, f"web:{token_of(page)}")) == 4
    # Danger over the limit is not stored either, but the emergency number is shown.
    box.fill("he is going to hurt me")
    page.keyboard.press("Enter")
    expect(chat_lines(page).last).to_contain_text("911")
    expect(chat_lines(page).last).to_contain_text(HOTLINE)
    expect(box).to_have_value("he is going to hurt me")
    expect(status).to_contain_text(note)
    assert len(store.transcript(redis_client, f"web:{token_of(page)}")) == 4
    assert axe_violations(page) == []
    context.close()
