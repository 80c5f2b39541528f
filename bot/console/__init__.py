"""The operator console: login, the live queue, transcripts, take over and reply, audit log.

`init_app` wires Flask-Login, CSRF protection (every blueprint except the Twilio webhook and the
web-chat API, which authenticate their own way), session cookie rules, the blueprint and the
`flask operators` command group.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, Request, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# Blueprints that must not need a CSRF token: Twilio signs its webhooks and delivery callbacks
# (`sms`, `outbound`), the web-chat API uses its own token (`widget`).
CSRF_EXEMPT = frozenset({"sms", "outbound", "widget"})
# Twilio's webhooks carry no cookies and need no session: skip reading and signing one.
SESSIONLESS_PATHS = frozenset({"/sms", "/sms/status"})


class Csrf(CSRFProtect):
    """CSRFProtect that exempts blueprints by name, including ones registered later."""

    def _is_exempt(self) -> bool:
        blueprint = (request.blueprint or "").split(".")[0]
        return blueprint in CSRF_EXEMPT or super()._is_exempt()


class SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS (after ProxyFix);
    gives Twilio's webhooks a null session."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """No session for Twilio's webhooks; the usual signed cookie for every other request."""
        if request.path in SESSIONLESS_PATHS:
            return None  # Flask then uses a null session, which is never saved
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured so, or when this request came over HTTPS."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def init_app(app: Flask) -> None:
    """Register the console on `app`."""
    # canned, notes, search, stats, team (transfer, the team page and API): their routes
    # register on bp when imported
    from bot.console import auth, canned, notes, search, stats, team, views  # noqa: F401
    from bot.operators_cli import operators

    if app.config.get("PUBLIC_URL", "").startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=app.config["CONSOLE_SESSION_HOURS"]),
        # The token lives as long as the session; an hour's limit would break a long shift.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.session_interface = SessionInterface()
    Csrf(app)
    auth.login_manager.init_app(app)
    app.register_blueprint(views.bp)
    app.cli.add_command(operators)
