"""The Flask application factory: configuration, Redis, content, blueprints."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.config import Config
from bot.content import Content
from bot.conversation import TriageLine
from bot.redis_client import connect
from bot.replies import Numbers

log = logging.getLogger(__name__)


def local_secret(data_dir: Path) -> str:
    """A secret in DATA_DIR shared by every worker on a laptop; production sets SECRET_KEY."""
    path = data_dir / "secret_key"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        log.warning("SECRET_KEY is not set: generated one in %s", path)
    except FileExistsError:
        pass
    return path.read_text().strip()


def build_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(Config().as_mapping())
    if overrides:
        app.config.from_mapping(overrides)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = local_secret(Path(app.config["DATA_DIR"]))
    if not app.config["TESTING"] and not logging.getLogger().handlers:
        logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    if app.config["TRUSTED_PROXIES"]:
        n = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)

    app.redis = connect(
        app.config["REDIS_URL"], app.config["DATA_DIR"], bool(app.config.get("REDIS_CLUSTER"))
    )
    content = Content(Path(app.config["INTENTS_DIR"]), Path(app.config["RESPONSES_DIR"]))
    numbers = Numbers(emergency=app.config["EMERGENCY_NUMBER"], crisis=app.config["CRISIS_LINE"])
    app.extensions["line"] = TriageLine(
        app.redis, content, numbers, int(app.config["RETENTION_DAYS"]) * 86400
    )

    from bot import sms, widget

    app.register_blueprint(sms.bp)
    app.register_blueprint(widget.bp)  # issue 6: the demo page at /, widget.js, chat API
    from bot import health, outbound  # issue 7: /healthz; operator SMS and delivery reports

    app.register_blueprint(health.bp)
    app.register_blueprint(outbound.bp)
    app.extensions["outbound"] = outbound.Outbound.from_config(app.redis, app.config)
    from bot import console  # operator console: login, CSRF, session cookies, `flask operators`

    console.init_app(app)
    return app
