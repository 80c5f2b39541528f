"""The web chat widget: the demo resource page at `/`, `/widget.js`, and the JSON chat API.

The API uses no cookies: a conversation is named by a signed random token the widget keeps in
`sessionStorage`, so any organisation's page can embed the widget (CORS is open).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("widget", __name__, template_folder="templates", static_folder=None)

from bot.widget import api, pages  # noqa: E402,F401  (routes register on `bp`)
