"""The demo resource page at `/` and `/widget.js` (with its CSS and settings built in)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from flask import Response, current_app, render_template, request

from bot.replies import HOTLINE, TEXTLINE
from bot.widget import bp

STATIC = Path(__file__).resolve().parent / "static"
DEFAULT_EXIT = "https://www.bbc.co.uk/weather"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
    "data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


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
    }
    css = " ".join((STATIC / "widget.css").read_text().split())
    script = (STATIC / "widget.js").read_text()
    return script.replace("/*SETTINGS*/{}", json.dumps(settings)).replace(
        '/*CSS*/""', json.dumps(css)
    )


@bp.get("/widget.js")
def widget_js() -> Response:
    response = Response(widget_source(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/")
def index() -> Response:
    """A plain page of where to get help, with the chat widget on it."""
    html = render_template(
        "widget/index.html",
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
    return response
