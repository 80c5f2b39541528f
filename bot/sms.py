"""Twilio's SMS webhook: verify the signature, answer with TwiML at once."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.conversation import TriageLine
from bot.safety import safe_reply
from bot.smstext import smart_encode

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__)


def public_url() -> str:
    """The URL Twilio signed: PUBLIC_URL's origin if set, else the request's (after ProxyFix)."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    if not base:
        return request.url
    query = request.query_string.decode()
    return f"{base}{request.path}" + (f"?{query}" if query else "")


def verify_twilio_signature() -> None:
    """Abort with 403 unless X-Twilio-Signature matches TWILIO_AUTH_TOKEN; :raise 403:"""
    token = current_app.config["TWILIO_AUTH_TOKEN"]
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token:
        log.error("TWILIO_AUTH_TOKEN is not set: refusing unsigned webhooks")
        abort(403)
    if not signature or not RequestValidator(token).validate(
        public_url(), request.form.to_dict(flat=True), signature
    ):
        log.warning("rejected a webhook with a bad signature for %s", public_url())
        abort(403)


def twiml(text: str | None) -> Response:
    response = MessagingResponse()
    if text:
        response.message(text)
    return Response(str(response), mimetype="text/xml")


@bp.post("/sms")
def inbound_sms() -> Response:
    verify_twilio_signature()
    body = request.form.get("Body", "")
    try:
        sender = request.form.get("From", "").strip() or "unknown"
        line: TriageLine = current_app.extensions["line"]
        return twiml(line.receive("sms", sender, body).reply)
    except Exception:
        log.exception("SMS webhook failed; answering with the built-in reply")
        return twiml(smart_encode(safe_reply(body, current_app.config["EMERGENCY_NUMBER"])))
