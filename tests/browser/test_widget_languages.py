"""The widget and the demo page in the person's language: 16 languages, Arabic right to left, a
language picker, the bot's reading of the person's language, and quick exit in each."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from bot.widget.pages import LANGUAGES, STRINGS
from tests.browser.helpers import PHONE, axe_violations, chat_lines, traces
from tests.helpers import HOTLINE

pytestmark = pytest.mark.browser


def strings(lang: str) -> dict[str, Any]:
    return json.loads((STRINGS / f"{lang}.json").read_text("utf-8"))


def widget(lang: str) -> dict[str, str]:
    return strings(lang)["widget"]


@pytest.fixture
def phone(browser) -> Iterator[Any]:
    """Open a phone-sized page in a browser whose language is the one given."""
    contexts: list[Any] = []

    def open_page(locale: str) -> Any:
        context = browser.new_context(viewport=PHONE, is_mobile=True, locale=locale)
        contexts.append(context)
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.problems = problems  # type: ignore[attr-defined]
        return page

    yield open_page
    for context in contexts:
        context.close()


def host(page: Any) -> Any:
    return page.locator("[data-triage-widget]")


def direction(page: Any, selector: str) -> str:
    return page.locator(selector).first.evaluate("e => getComputedStyle(e).direction")


def send(page: Any, text: str) -> None:
    """Type into the message box (whatever its label's language) and press Enter."""
    page.locator("textarea").fill(text)
    page.keyboard.press("Enter")


def open_in(page: Any, lang: str) -> None:
    """The chat opened with the launcher named in `lang`; focus in the message box."""
    t = widget(lang)
    page.get_by_role("button", name=t["open"]).click()
    expect(page.get_by_label(t["label"], exact=True)).to_be_focused()


def test_arabic_is_right_to_left_with_an_arabic_quick_exit(neutral, live_server, phone, artifacts):
    t = widget("ar")
    page = phone("ar-EG")
    page.goto(live_server.url + "/")
    expect(host(page)).to_have_attribute("data-ready", "")
    expect(host(page)).to_have_attribute("data-lang", "ar")
    exit_button = page.get_by_role("button", name=t["exit"])
    expect(exit_button).to_have_text("خروج سريع")
    assert direction(page, ".w") == "rtl"
    # The page is Arabic too, right to left, and mirrored: quick exit sits top left.
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("h1")).to_have_text(strings("ar")["page"]["title"])
    box = exit_button.bounding_box()
    assert box["x"] < PHONE["width"] / 2 and box["y"] < 60

    open_in(page, "ar")
    panel = page.locator(".panel").bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert direction(page, ".log") == "rtl" and direction(page, ".head") == "rtl"
    # Numbers are isolated so "911" and the hotline read left to right inside Arabic text.
    expect(page.locator(".tip bdi")).to_have_text("911")
    send(page, "help")
    expect(chat_lines(page)).to_have_count(3)
    expect(chat_lines(page).last).to_contain_text(HOTLINE)
    expect(chat_lines(page).last.locator("bdi", has_text=HOTLINE).first).to_have_text(HOTLINE)
    # An English reply the bot gives by default does not undo the browser's language.
    expect(chat_lines(page).last.locator(".who")).to_have_text(t["bot"] + ": ")
    expect(host(page)).to_have_attribute("data-lang", "ar")
    page.screenshot(path=str(artifacts / "widget-ar.png"))
    assert axe_violations(page) == []
    assert page.problems == []


@pytest.mark.parametrize(("locale", "lang"), [("zh-CN", "zh"), ("ht-HT", "ht")])
def test_chinese_and_haitian_creole_strings_show(
    neutral, live_server, phone, artifacts, locale, lang
):
    t = widget(lang)
    page = phone(locale)
    page.goto(live_server.url + "/")
    expect(page.get_by_role("button", name=t["exit"])).to_have_text(t["exit"])
    expect(page.locator("h1")).to_have_text(strings(lang)["page"]["title"])
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert direction(page, ".w") == "ltr"
    open_in(page, lang)
    expect(page.locator("#tlw-title")).to_have_text(t["title"])
    expect(page.get_by_label(t["label"], exact=True)).to_have_attribute("placeholder", t["ph"])
    expect(page.get_by_role("button", name=t["min"])).to_be_visible()
    expect(page.get_by_role("button", name=t["send"])).to_be_visible()
    expect(page.get_by_label(t["lang"], exact=True)).to_have_value(lang)
    expect(chat_lines(page).first).to_have_text(f"{t['bot']}: {t['hello']}")
    send(page, "help")
    expect(chat_lines(page)).to_have_count(3)
    expect(chat_lines(page).last).to_contain_text(HOTLINE)
    page.screenshot(path=str(artifacts / f"widget-{lang}.png"))
    assert axe_violations(page) == []
    assert page.problems == []


def test_the_picker_changes_the_widget_and_the_page(neutral, live_server, phone):
    page = phone("en-US")
    page.goto(live_server.url + "/")
    open_in(page, "en")
    picker = page.get_by_label("Language", exact=True)
    names = picker.locator("option").all_inner_texts()
    assert names == [strings(lang)["name"] for lang in LANGUAGES]  # each in its own name
    assert picker.locator("option[value=zh]").get_attribute("lang") == "zh"

    picker.select_option("zh")
    zh = widget("zh")
    expect(page.get_by_role("button", name=zh["min"])).to_be_visible()
    expect(page.get_by_label(zh["label"], exact=True)).to_have_attribute("placeholder", zh["ph"])
    expect(page.locator(".tip")).to_have_text(zh["tip"].replace("{em}", "911"))
    expect(chat_lines(page).first).to_have_text(f"{zh['bot']}: {zh['hello']}")
    expect(page.locator("html")).to_have_attribute("lang", "zh")
    expect(page.locator("h1")).to_have_text(strings("zh")["page"]["title"])
    expect(page.locator(".note strong")).to_have_text(zh["exit"])  # the button's own name
    assert page.title() == strings("zh")["page"]["title"]

    page.get_by_label(zh["lang"], exact=True).select_option("ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("button", name=widget("ar")["exit"])).to_be_visible()
    assert direction(page, ".w") == "rtl"
    # A choice made with the picker stays for this tab; the bot's reading does not override it.
    page.reload()
    expect(host(page)).to_have_attribute("data-lang", "ar")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    send(page, "ayuda")
    expect(chat_lines(page)).to_have_count(3)
    expect(host(page)).to_have_attribute("data-lang", "ar")
    assert page.problems == []


def test_the_bot_reading_another_language_switches_the_ui(neutral, live_server, phone):
    page = phone("en-US")
    page.goto(live_server.url + "/")
    open_in(page, "en")
    send(page, "ayuda")  # the bot answers in Spanish and says so
    es = widget("es")
    expect(page.get_by_label(es["label"], exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=es["exit"])).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("h1")).to_have_text(strings("es")["page"]["title"])

    # A language the bot has no replies for yet still moves the interface.
    def reply_in_creole(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        route.fulfill(
            json={
                "reply": "Bonjou",
                "language": "ht",
                "next": 5,
                "reset": False,
                "entries": [
                    {"from": "person", "text": "bonjou"},
                    {"from": "bot", "text": "Bonjou"},
                ],
            }
        )

    page.route("**/chat/api/messages", reply_in_creole)
    send(page, "bonjou")
    ht = widget("ht")
    expect(page.get_by_role("button", name=ht["min"])).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "ht")
    assert page.problems == []


def test_without_its_language_table_the_widget_works_in_english(neutral, live_server, phone):
    page = phone("ar")
    page.route("**/widget/strings/**", lambda route: route.abort())
    page.goto(live_server.url + "/")
    expect(host(page)).to_have_attribute("data-ready", "")
    expect(host(page)).to_have_attribute("data-lang", "en")
    assert direction(page, ".w") == "ltr"
    open_in(page, "en")
    send(page, "help")
    expect(chat_lines(page).last).to_contain_text(HOTLINE)
    page.get_by_role("button", name="Quick exit").click()
    page.wait_for_url(neutral.url + "/weather")


def test_embedded_widget_follows_the_browser_before_the_page(neutral, live_server, phone):
    """On another site (strict CSP) the table comes from the chat's origin; navigator.languages
    comes before the host page's lang."""
    neutral.widget_src = live_server.url + "/widget.js"
    page = phone("ko-KR")
    page.goto(neutral.url + "/embed")
    ko = widget("ko")
    page.get_by_role("button", name=ko["open"]).click()
    expect(page.get_by_label(ko["label"], exact=True)).to_be_focused()
    assert page.locator("html").get_attribute("lang") == "en"  # the host page is left alone
    assert page.problems == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_quick_exit_in_every_language_leaves_no_trace(neutral, live_server, browser, lang):
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.goto(neutral.url + "/before")
    page.goto(f"{live_server.url}/?lang={lang}")
    t = widget(lang)
    page.get_by_role("button", name=t["open"]).click()
    page.get_by_label(t["lang"], exact=True).select_option(lang)  # a choice kept in the tab
    before = page.evaluate("history.length")
    page.get_by_role("button", name=t["exit"]).click()
    page.wait_for_url(neutral.url + "/weather")
    assert page.evaluate("history.length") == before  # replaced, not pushed
    page.go_back()
    assert page.url == neutral.url + "/before"
    page.goto(live_server.url + "/")
    assert traces(page) == {"session": [], "local": [], "cookie": ""}
    context.close()
