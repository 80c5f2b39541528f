"""The Flask application factory: configuration, Redis, content, blueprints."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from bot import console, health, hosts, logmask, outbound, sms, widget
from bot.config import Config, retention_seconds
from bot.content import Content
from bot.conversation import TriageLine
from bot.faults import Faults
from bot.journal import Journal
from bot.redis_client import connect, restart_embedded
from bot.replies import Numbers
from bot.retention import Sweeper
from bot.upkeep import Upkeep, answer_held_alerts, replay_journal

log = logging.getLogger(__name__)


def local_secret(data_dir: Path, faults: Faults) -> str:
    """A secret in DATA_DIR shared by every worker on a laptop; production sets SECRET_KEY.

    If DATA_DIR cannot be written, a secret for this process only (console logins then last
    until a restart) and the fault is named."""
    path = data_dir / "secret_key"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        log.warning("SECRET_KEY is not set: generated one in %s", path)
    except FileExistsError:
        pass
    except OSError:
        faults.set("data_dir", "DATA_DIR is not writable: set SECRET_KEY, or fix DATA_DIR")
        return secrets.token_hex(32)
    return path.read_text().strip()


def build_app(overrides: dict[str, Any] | None = None) -> Flask:
    """A configured app: Redis, the triage line, every blueprint, the sweeper and upkeep."""
    app = Flask(__name__)
    app.config.from_mapping(Config().as_mapping())
    if overrides:
        app.config.from_mapping(overrides)
    faults = app.extensions["faults"] = Faults()
    data_dir = Path(app.config["DATA_DIR"])
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = local_secret(data_dir, faults)
    if not app.config["TESTING"] and not logging.getLogger().handlers:
        logging.basicConfig(level=app.config["LOG_LEVEL"])
    logmask.install()  # issue 12: no log line carries a whole number or chat token
    hosts.configure(app)  # TRUSTED_HOSTS: other Host headers get 400 (before ProxyFix wraps)
    if app.config["TRUSTED_PROXIES"]:
        n = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)

    app.redis = connect(
        app.config["REDIS_URL"], str(data_dir), bool(app.config.get("REDIS_CLUSTER")), faults
    )
    content = Content(Path(app.config["INTENTS_DIR"]), Path(app.config["RESPONSES_DIR"]))
    numbers = Numbers(emergency=app.config["EMERGENCY_NUMBER"], crisis=app.config["CRISIS_LINE"])
    journal = Journal(data_dir, int(app.config["JOURNAL_MAX_MB"]) * 2**20)
    # request code reads these through bot/services.py: line(), outbound(), faults()
    line = app.extensions["line"] = TriageLine(
        app.redis, content, numbers, retention_seconds(app.config), journal
    )

    app.register_blueprint(sms.bp)  # Twilio's webhook: SMS and WhatsApp
    app.register_blueprint(widget.bp)  # the demo page at /, widget.js, the chat API
    app.register_blueprint(health.bp)  # /healthz
    app.register_blueprint(outbound.bp)  # delivery reports of operator messages
    app.extensions["outbound"] = outbound.Outbound.from_config(app.redis, app.config)
    sweeper = app.extensions["sweeper"] = Sweeper(
        app.redis, retention_seconds(app.config), float(app.config["SWEEP_MINUTES"])
    )
    app.extensions["upkeep"] = upkeep = Upkeep(
        [
            restart_embedded(app.redis),
            replay_journal(line),
            answer_held_alerts(line, app.extensions["outbound"]),
            sweeper.tick,  # what expired conversations left, once per SWEEP_MINUTES
        ],
        interval=float(app.config["UPKEEP_SECONDS"]),
    )
    app.before_request(upkeep.ensure_running)
    console.init_app(app)  # login, CSRF, session cookies, the console's pages, `flask operators`
    return app
