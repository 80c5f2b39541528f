"""`GET /healthz` for load balancers and uptime checks: is Redis reachable? Nothing else."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 {"redis": "ok"} or 503 {"redis": "down"}; the error itself only goes to the log."""
    try:
        current_app.redis.ping()
        body, code = {"redis": "ok"}, 200
    except Exception as exc:
        log.warning("health check: Redis unreachable (%s)", type(exc).__name__)
        body, code = {"redis": "down"}, 503
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, code
