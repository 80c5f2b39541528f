"""`GET /healthz` for load balancers and uptime checks: is Redis reachable? Nothing else."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when Redis answers and the classifier is loaded, else 503 naming what is down; the
    error itself only goes to the log."""
    body, code = {"redis": "ok", "classifier": "ok"}, 200
    try:
        current_app.redis.ping()
    except Exception as exc:
        log.warning("health check: Redis unreachable (%s)", type(exc).__name__)
        body["redis"], code = "down", 503
    content = current_app.extensions["line"].content
    if content.classifier is None:
        body["classifier"], code = "down", 503
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, code
