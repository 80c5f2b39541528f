"""Twilio's SMS webhook: verify the signature, answer with TwiML at once."""

from __future__ import annotations

import hmac
import logging
from functools import lru_cache

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
    if not signature or not signature_matches(
        token, public_url(), request.form.to_dict(flat=True), signature
    ):
        log.warning("rejected a webhook with a bad signature for %s", public_url())
        abort(403)


def signature_matches(token: str, url: str, params: dict[str, str], signature: str) -> bool:
    """twilio's RequestValidator check. The URL as given usually matches, so it is tried alone
    first (`validate` always computes two HMACs: the URL with and without its port)."""
    validator = RequestValidator(token)
    expected = validator.compute_signature(url, params)
    if hmac.compare_digest(expected.encode(), signature.encode()):
        return True
    return validator.validate(url, params, signature)


@lru_cache(maxsize=512)
def twiml_text(text: str | None) -> str:
    """The TwiML for one reply; replies come from a few hundred texts, so it is cached."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)


def twiml(text: str | None) -> Response:
    return Response(twiml_text(text), mimetype="text/xml")


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
