"""Twilio's SMS webhook: verify the signature, answer with TwiML at once."""

from __future__ import annotations

import hmac
import logging
from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot import services, store
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
    """The TwiML response that sends `text` (none if empty)."""
    return Response(twiml_text(text), mimetype="text/xml")


WHATSAPP_PREFIX = "whatsapp:"
MAX_MEDIA = 10  # Twilio sends at most 10 media items per message


def sender_and_channel(raw: str) -> tuple[str, str]:
    """("whatsapp", "+1555...") for a WhatsApp sender (`From: whatsapp:+1555...`), else
    ("sms", the number): WhatsApp is a channel of its own, with its own conversation."""
    raw = raw.strip() or "unknown"
    if raw.lower().startswith(WHATSAPP_PREFIX):
        return "whatsapp", raw[len(WHATSAPP_PREFIX) :]
    return "sms", raw


def media_of(form: Any) -> list[dict[str, str]]:
    """The photos, audio and voice notes of a message: type and Twilio's URL (not fetched)."""
    try:
        count = min(int(form.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    items = (
        {"type": form.get(f"MediaContentType{i}", ""), "url": form.get(f"MediaUrl{i}", "")}
        for i in range(count)
    )
    return [item for item in items if item["url"]]


@bp.post("/sms")
def inbound_sms() -> Response:
    """Answer an inbound SMS or WhatsApp message (Twilio uses the same webhook for both).
    Twilio may send the same `MessageSid` again (a retry after a slow answer, or its fallback
    URL): it is stored once and every copy gets the same reply."""
    verify_twilio_signature()
    body = request.form.get("Body", "")
    emergency = current_app.config["EMERGENCY_NUMBER"]
    sid = request.form.get("MessageSid", "")
    try:
        channel, sender = sender_and_channel(request.form.get("From", ""))
        line = services.line()
        outcome = line.receive(
            channel, sender, body, message_id=sid or None, media=media_of(request.form)
        )
    except Exception:
        log.exception("SMS webhook failed; answering with the built-in reply")
        return twiml(smart_encode(safe_reply(body, emergency)))
    # a MessageSid is claimed as the line reads the conversation (a copy gets the first copy's
    # reply); once stored, the turn's own round trip kept the reply for Twilio's retries
    if sid and not outcome.stored:
        try:  # not stored: a retry must be free to store it
            current_app.redis.delete(store.message_key(sid))
        except Exception:
            log.warning("could not free a message's id for Twilio's retries")
    return twiml(outcome.reply)
