"""The demo resource page at `/` and `/widget.js` (with its CSS and settings built in), in the
16 languages of `strings/<lang>.json`.

Each language file holds the widget's strings (`widget`) and the demo page's sentences (`page`);
the facts in them (numbers, links) are placeholders filled here from the settings. widget.js
carries English only; another language's table is fetched from `/widget/strings/<lang>.json`
when wanted, and the page's text from `/page/strings/<lang>.json` when the widget changes
language (the page's CSP allows no inline script, so its script is `/page.js`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Response, abort, current_app, jsonify, render_template, request
from markupsafe import Markup, escape

from bot.replies import HOTLINE, TEXTLINE
from bot.widget import bp

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
STRINGS = HERE / "strings"
# The widget's languages, one file each (adding a file adds a language); English first.
LANGUAGES = ("en", *sorted(p.stem for p in STRINGS.glob("*.json") if p.stem != "en"))
PAGE_TAGS = ("strong", "kbd")  # the only markup a page sentence may carry
DEFAULT_EXIT = "https://www.bbc.co.uk/weather"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
    "data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
CACHE = "public, max-age=600"

_tables: dict[str, tuple[int, dict[str, Any]]] = {}


def table(lang: str) -> dict[str, Any]:
    """strings/<lang>.json, read again only when the file changes."""
    path = STRINGS / f"{lang}.json"
    mtime = path.stat().st_mtime_ns
    cached = _tables.get(lang)
    if cached is None or cached[0] != mtime:
        cached = _tables[lang] = (mtime, json.loads(path.read_text("utf-8")))
    return cached[1]


def supported(value: str | None) -> str | None:
    """The language code of a tag such as "zh-TW" or "fil" if the widget has it, else None."""
    code = re.split(r"[-_]", (value or "").strip().lower())[0]
    code = "tl" if code == "fil" else code
    return code if code in LANGUAGES else None


def exit_url() -> str:
    """QUICK_EXIT_URL if it is an absolute http(s) URL, else BBC Weather."""
    url = str(current_app.config.get("QUICK_EXIT_URL") or "")
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else DEFAULT_EXIT


def widget_source() -> str:
    """widget.js with the stylesheet and the settings filled in: one request, no third party."""
    settings = {
        "exitUrl": exit_url(),
        "emergency": current_app.config["EMERGENCY_NUMBER"],
        "hotline": HOTLINE,
        "textline": TEXTLINE,
        "langs": {lang: table(lang)["name"] for lang in LANGUAGES},
        "rtl": [lang for lang in LANGUAGES if table(lang)["dir"] == "rtl"],
        "en": table("en")["widget"],
    }
    css = " ".join((STATIC / "widget.css").read_text().split())
    script = (STATIC / "widget.js").read_text("utf-8")
    return script.replace("/*SETTINGS*/{}", json.dumps(settings, ensure_ascii=False)).replace(
        '/*CSS*/""', json.dumps(css)
    )


def cacheable(response: Response) -> Response:
    """`response` with browser caching (10 minutes), an ETag, and 304 when unchanged."""
    response.headers["Cache-Control"] = CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/widget.js")
def widget_js() -> Response:
    """The embeddable widget script, its stylesheet and settings inlined."""
    return cacheable(Response(widget_source(), mimetype="text/javascript"))


@bp.get("/widget/strings/<lang>.json")
def widget_strings(lang: str) -> Response:
    """One language's widget strings; any page embedding the widget may fetch them (CORS)."""
    if lang not in LANGUAGES:
        abort(404)
    response = cacheable(jsonify(table(lang)["widget"]))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def page_text(lang: str) -> dict[str, Markup]:
    """The demo page's sentences in `lang` as HTML: the text escaped, <strong> and <kbd> kept,
    placeholders replaced by the numbers and links. A sentence missing falls back to English."""
    emergency = str(escape(current_app.config["EMERGENCY_NUMBER"]))
    hotline, textline = str(escape(HOTLINE)), str(escape(TEXTLINE))
    exit_label = str(escape(table(lang)["widget"]["exit"]))

    def link(href: str, text: str) -> str:
        return f'<a href="{href}" rel="noreferrer" dir="ltr">{text}</a>'

    parts = {
        "em": f"<bdi>{emergency}</bdi>",
        "hl": f"<bdi>{hotline}</bdi>",
        "tl": f"<bdi>{textline}</bdi>",
        "emLink": f'<a href="tel:{emergency}" dir="ltr">{emergency}</a>',
        "hlLink": f'<a class="big" href="tel:+18883737888" dir="ltr">{hotline}</a>',
        "exit": f"<strong>{exit_label}</strong>",
        "web": link("https://www.traffickingresourcecenter.org", "traffickingresourcecenter.org"),
        "blueheart": link("https://www.unodc.org/blueheart/", "unodc.org/blueheart"),
        "unodc": link(
            "https://www.unodc.org/unodc/en/human-trafficking/",
            "unodc.org/unodc/en/human-trafficking",
        ),
    }

    def html(text: str) -> Markup:
        out = str(escape(text))
        for tag in PAGE_TAGS:
            out = out.replace(f"&lt;{tag}&gt;", f"<{tag}>").replace(f"&lt;/{tag}&gt;", f"</{tag}>")
        return Markup(re.sub(r"\{(\w+)\}", lambda m: parts.get(m[1], m[0]), out))

    sentences = {**table("en")["page"], **table(lang)["page"]}
    return {key: html(text) for key, text in sentences.items()}


@bp.get("/page/strings/<lang>.json")
def page_strings(lang: str) -> Response:
    """The demo page's text in one language, for /page.js to swap in."""
    if lang not in LANGUAGES:
        abort(404)
    title = table(lang)["page"].get("title") or table("en")["page"]["title"]  # plain text
    body = jsonify(lang=lang, dir=table(lang)["dir"], title=title, text=page_text(lang))
    return cacheable(body)


@bp.get("/page.js")
def page_js() -> Response:
    """The demo page's script."""
    source = (STATIC / "page.js").read_text("utf-8")
    return cacheable(Response(source, mimetype="text/javascript"))


def page_language() -> str:
    """?lang=xx if supported, else the first supported language the browser asks for, else en."""
    chosen = supported(request.args.get("lang"))
    if chosen:
        return chosen
    for value, _quality in request.accept_languages:
        chosen = supported(value)
        if chosen:
            return chosen
    return "en"


@bp.get("/")
def index() -> Response:
    """A plain page of where to get help, with the chat widget on it."""
    lang = page_language()
    html = render_template(
        "widget/index.html",
        lang=lang,
        dir=table(lang)["dir"],
        t=page_text(lang),
        emergency=current_app.config["EMERGENCY_NUMBER"],
        hotline=HOTLINE,
        textline=TEXTLINE,
    )
    response = Response(html, mimetype="text/html")
    # no-store also keeps the page out of the back-forward cache; no-referrer hides it from
    # the neutral site that quick exit opens.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Vary"] = "Accept-Language"
    return response
