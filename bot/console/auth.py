"""Console login: Flask-Login sessions revocable in Redis, argon2 passwords, login limits."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import (
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from bot import accounts, audit
from bot.console import bp, limits, sessions

login_manager = LoginManager()
login_manager.session_protection = "basic"


class Operator(UserMixin):
    """The logged-in operator (Flask-Login's user object)."""

    def __init__(self, account: accounts.Account) -> None:
        self.account = account
        self.name = account.name
        self.is_admin = account.is_admin

    def get_id(self) -> str:
        """The operator's name: what Flask-Login keeps in the session to load them again."""
        return self.name


@login_manager.user_loader
def load_operator(name: str) -> Operator | None:
    """The session's operator, unless the session was ended (logout, admin) or is too old,
    or the account is gone or disabled."""
    max_age = current_app.config["CONSOLE_SESSION_HOURS"] * 3600
    if time.time() - float(session.get("login_at", 0)) > max_age:
        return None
    if not sessions.is_live(current_app.redis, name, session.get("sid")):
        return None
    account = accounts.get(current_app.redis, name)
    return Operator(account) if account and not account.disabled else None


@login_manager.unauthorized_handler
def unauthorized() -> Response:
    """JSON callers get 401; pages go to the login form and come back afterwards."""
    if request.path.startswith("/console/api/"):
        return jsonify(error="login required"), 401
    return redirect(url_for("console.login", next=request.full_path.rstrip("?")))


def safe_next(target: str | None) -> str:
    """Only a path inside the console: never an open redirect."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/console"):
        return url_for("console.queue_page")
    return target or url_for("console.queue_page")


def how_long(seconds: int) -> str:
    """A wait as the login page words it: seconds under two minutes, else rounded minutes."""
    if seconds < 120:
        return "1 second" if seconds == 1 else f"{seconds} seconds"
    return f"about {round(seconds / 60)} minutes"


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """The login form; on POST, check the password within the login limits and start a session."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    if request.method == "GET":
        return render_template("console/login.html", next=request.args.get("next", ""))

    r, cfg = current_app.redis, current_app.config
    name = request.form.get("name", "").strip().lower()[:64]
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    known = accounts.get(r, name) is not None
    wait = limits.admit(
        r,
        name,
        address,
        per_name=cfg["LOGIN_MAX_PER_NAME"],
        per_address=cfg["LOGIN_MAX_PER_ADDRESS"],
        window=cfg["LOGIN_WINDOW_SECONDS"],
        first_delay=cfg["LOGIN_BACKOFF_SECONDS"],
    )
    if wait:
        audit.record(r, name if known else "(unknown name)", "login_refused", addr=address)
        error = f"Too many failed logins. Try again in {how_long(wait)}."
        return render_template("console/login.html", error=error, name=name), 429

    account = accounts.authenticate(r, name, password)
    if account is None:
        audit.record(r, name if known else "(unknown name)", "login_failed", addr=address)
        error = "Wrong name or password, or the account is disabled."
        return render_template("console/login.html", error=error, name=name), 401

    limits.succeed(r, name, address, cfg["LOGIN_WINDOW_SECONDS"])
    if current_user.is_authenticated:  # logging in again ends the session it replaces
        sessions.end(r, current_user.name, session.get("sid"))
    session.clear()  # no state carried over from before the login
    login_user(Operator(account))
    session.permanent = True
    session["login_at"] = time.time()
    session["sid"] = sessions.start(r, account.name, cfg["CONSOLE_SESSION_HOURS"] * 3600)
    audit.record(r, account.name, "login", addr=address)
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Response:
    """End the operator's session (in Redis too), audit it and show the login form."""
    if current_user.is_authenticated:
        sessions.end(current_app.redis, current_user.name, session.get("sid"))
        audit.record(current_app.redis, current_user.name, "logout")
    logout_user()
    session.clear()
    return redirect(url_for("console.login"))
