"""The widget's and the demo page's strings in 16 languages: complete tables, the same facts,
served small and cacheable, and the page rendered in the asked language."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from bot.widget.pages import LANGUAGES, PAGE_TAGS, STRINGS
from tests.helpers import HOTLINE

EN = json.loads((STRINGS / "en.json").read_text("utf-8"))
OTHERS = [lang for lang in LANGUAGES if lang != "en"]
BUDGET = 15 * 1024  # bench/widget.py's budget for widget.js, gzipped
# Sentences that read the same as in English (the hotline's name and words in common use).
SAME_AS_ENGLISH = {"tl": {"hlTitle", "hlWeb", "foot"}}


def load(lang: str) -> dict:
    return json.loads((STRINGS / f"{lang}.json").read_text("utf-8"))


def placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"\{\w+\}", text))


def tags(text: str) -> list[str]:
    return sorted(re.findall(r"</?(\w+)", text))


def test_one_file_per_language_and_no_other():
    assert sorted(p.stem for p in Path(STRINGS).glob("*.json")) == sorted(LANGUAGES)
    assert len(LANGUAGES) == 16


@pytest.mark.parametrize("lang", OTHERS)
def test_every_table_has_every_english_key_with_the_same_facts(lang):
    table = load(lang)
    assert table["name"] and table["dir"] == ("rtl" if lang == "ar" else "ltr")
    assert table["review"]  # says how the text was checked
    for part in ("widget", "page"):
        assert set(table[part]) == set(EN[part]), f"{lang} {part}: keys differ from English"
        for key, english in EN[part].items():
            text = table[part][key]
            assert isinstance(text, str) and text.strip(), f"{lang} {part}.{key} is empty"
            # numbers and links are placeholders: a translation cannot drop or invent one
            assert placeholders(text) == placeholders(english), f"{lang} {part}.{key}"
            assert tags(text) == tags(english), f"{lang} {part}.{key}: markup differs"
            assert text != english or key in SAME_AS_ENGLISH.get(lang, ()), f"{lang} {key}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_tip_names_the_quick_exit_button_as_it_is_labelled(lang):
    widget = load(lang)["widget"]
    assert widget["exit"] in widget["tip"]
    assert widget["exitName"].startswith(widget["exit"])  # the accessible name starts alike


def test_page_sentences_carry_only_simple_markup():
    for lang in LANGUAGES:
        for key, text in load(lang)["page"].items():
            assert set(tags(text)) <= set(PAGE_TAGS), f"{lang} page.{key}"


def test_widget_js_carries_english_and_the_names_only(client):
    response = client.get("/widget.js")
    source = response.get_data(as_text=True)
    assert "Quick exit" in source and "Salida rápida" not in source and "خروج سريع" not in source
    for lang in LANGUAGES:
        assert json.dumps(load(lang)["name"], ensure_ascii=False) in source
    assert len(gzip.compress(response.data, 9)) <= BUDGET


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_language_table_is_served_cacheable_to_any_page(client, lang):
    response = client.get(f"/widget/strings/{lang}.json")
    assert response.status_code == 200
    assert response.get_json() == load(lang)["widget"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"  # the widget embeds anywhere
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    again = client.get(
        f"/widget/strings/{lang}.json", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/widget/strings/xx.json",
        "/widget/strings/EN.json",
        "/widget/strings/..%2Fen.json",
        "/page/strings/de.json",
    ],
)
def test_unknown_languages_are_not_found(client, path):
    assert client.get(path).status_code == 404


def test_page_in_arabic_is_right_to_left_with_numbers_isolated(client):
    html = client.get("/?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "<title>المساعدة في حالات الاتجار بالبشر</title>" in html
    assert f'<a class="big" href="tel:+18883737888" dir="ltr">{HOTLINE}</a>' in html
    assert "<bdi>233733</bdi>" in html
    assert '<a href="tel:911" dir="ltr">911</a>' in html
    assert "<strong>خروج سريع</strong>" in html  # the page names the button as the widget does
    assert 'data-lang="ar"' in html  # the widget starts in the page's language


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("zh-TW,zh;q=0.9,en;q=0.5", "zh"),
        ("de-DE,ht;q=0.8", "ht"),
        ("fil-PH", "tl"),
        ("de-DE", "en"),
        ("", "en"),
    ],
)
def test_page_follows_the_browser_when_no_language_is_asked(client, header, lang):
    html = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{lang}" dir="ltr">' in html


def test_page_text_for_swapping_is_escaped_html(client):
    body = client.get("/page/strings/ht.json").get_json()
    assert body["lang"] == "ht" and body["dir"] == "ltr"
    assert body["title"] == load("ht")["page"]["title"]
    assert set(body["text"]) == set(EN["page"])
    assert "<strong>Sòti vit</strong>" in body["text"]["exitNote"]
    assert "<kbd>Esc</kbd>" in body["text"]["exitNote"]
    assert '"Affected for Life"' not in body["text"]["pro4"]  # quotes are escaped
    assert "&#34;Affected for Life&#34;" in body["text"]["pro4"]
    for html in body["text"].values():
        assert set(tags(html)) <= {"strong", "kbd", "a", "bdi"}


def test_page_script_is_served_same_origin(client):
    response = client.get("/page.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert "triage-line:language" in response.get_data(as_text=True)
