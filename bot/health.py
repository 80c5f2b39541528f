"""`GET /healthz` for load balancers and uptime checks: can the line store and classify?"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from bot import services

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when Redis answers, the classifier is loaded and no turn waits in the journal; else
    503 naming what is down, with a short reason (details only in the log)."""
    body: dict[str, Any] = {"redis": "ok", "classifier": "ok"}
    try:
        current_app.redis.ping()
    except Exception as exc:
        log.warning("health check: Redis unreachable (%s)", type(exc).__name__)
        body["redis"] = "down"
    line = services.line()
    if line.content.classifier is None:
        body["classifier"] = "down"
    body["journal"] = line.journal.waiting() if line.journal else 0
    if line.journal and line.journal.full:
        reasons = {"journal": "the local journal is full: messages are answered but not kept"}
    else:
        reasons = {}
    reasons |= services.faults().reasons()
    if line.content.errors:
        reasons["data"] = "a data file failed to load (see the log); the last good one is used"
    if reasons:
        body["reason"] = "; ".join(reasons.values())
    ok = (
        body["redis"] == "ok" and body["classifier"] == "ok" and not body["journal"] and not reasons
    )
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if ok else 503
