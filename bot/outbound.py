"""Operator SMS out through Twilio's REST API: retried, sent once per key, delivery tracked.

`Outbound.send` goes through the real `twilio.rest.Client`; `TWILIO_API_BASE` swaps the
`https://api.twilio.com` origin for another (a local fake in tests). Twilio reports delivery to
`POST /sms/status`, signed like `/sms`; the latest status of each message is kept per conversation.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import requests
from flask import Blueprint, Response, request
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot import services, store
from bot.config import retention_seconds
from bot.sms import sender_and_channel, verify_twilio_signature

log = logging.getLogger(__name__)
bp = Blueprint("outbound", __name__)

TWILIO_ORIGIN = "https://api.twilio.com"
PENDING = "pending"
# Later statuses win: a late "sent" never overwrites "delivered" (callbacks come in any order).
STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "receiving": 3,
    "received": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
}
# KEYS[1] status hash, KEYS[2] the conversation hash (same slot); ARGV: sid, status, rank, ttl,
# known ("1": only a message recorded at its send). Only moves a message's status forward; the
# status expires with its conversation. Twilio's reports name a message recorded when it was
# sent: one for another (erased, expired) is dropped, so it never recreates a key naming a number.
_SET_STATUS = """
local old = redis.call('HGET', KEYS[1], ARGV[1] .. ':rank')
if not old and ARGV[5] == '1' then return 0 end
if old and tonumber(old) > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], ARGV[1] .. ':rank', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
local ends = redis.call('PEXPIRETIME', KEYS[2])
if ends > 0 then redis.call('PEXPIREAT', KEYS[1], ends, 'LT') end
return 1
"""


class OutboundError(Exception):
    """The SMS was not sent (Twilio refused it, or kept failing until we gave up)."""


def sent_key(cid: str, key: str) -> str:
    """Idempotency marker of one send; it carries the conversation's hash tag."""
    return f"tl:out:{{{cid}}}:{key}"


def status_key(cid: str) -> str:
    """The Redis hash of Twilio's delivery status for each operator message of a conversation."""
    return f"tl:delivery:{{{cid}}}"


class _BaseSwap(TwilioHttpClient):
    """twilio's own HTTP client, sending to `base` instead of api.twilio.com."""

    def __init__(self, base: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base = base.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if self.base and url.startswith(TWILIO_ORIGIN):
            url = self.base + url[len(TWILIO_ORIGIN) :]
        return super().request(method, url, *args, **kwargs)


class Outbound:
    """Sends operator replies by SMS; one instance per app (`services.outbound()`)."""

    def __init__(
        self,
        redis: Any,
        *,
        account_sid: str,
        auth_token: str,
        from_: str,
        api_base: str = "",
        status_url: str = "",
        timeout: float = 5.0,
        attempts: int = 4,
        backoff: float = 0.5,
        retention_seconds: int = 30 * 86400,
        whatsapp_from: str = "",
        whatsapp_template: str = "",
    ) -> None:
        self.redis = redis
        self.from_ = from_
        self.whatsapp_from = whatsapp_from
        self.whatsapp_template = whatsapp_template
        self.status_url = status_url
        self.attempts = attempts
        self.backoff = backoff
        self.retention_seconds = retention_seconds
        self.client = Client(
            account_sid or None, auth_token or None, http_client=_BaseSwap(api_base, timeout)
        )

    @classmethod
    def from_config(cls, redis: Any, config: Any) -> Outbound:
        """An instance from the app's Twilio settings (delivery reports go to PUBLIC_URL)."""
        public = (config.get("PUBLIC_URL") or "").rstrip("/")
        return cls(
            redis,
            account_sid=config.get("TWILIO_ACCOUNT_SID", ""),
            auth_token=config.get("TWILIO_AUTH_TOKEN", ""),
            from_=config.get("TWILIO_FROM", ""),
            api_base=config.get("TWILIO_API_BASE", ""),
            status_url=f"{public}/sms/status" if public else "",
            timeout=float(config.get("TWILIO_TIMEOUT") or 5),
            retention_seconds=retention_seconds(config),
            whatsapp_from=config.get("TWILIO_WHATSAPP_FROM", ""),
            whatsapp_template=config.get("TWILIO_WHATSAPP_TEMPLATE_SID", ""),
        )

    def send(self, cid: str, to: str, body: str, *, key: str, template: bool = False) -> str:
        """Send `body` to `to` once per `key`; return Twilio's message SID. :raise OutboundError:

        A `whatsapp:` conversation goes from TWILIO_WHATSAPP_FROM; `template` sends the approved
        template (TWILIO_WHATSAPP_TEMPLATE_SID) instead of free text, as WhatsApp requires more
        than 24 hours after the person's last message.
        """
        whatsapp = cid.startswith("whatsapp:")
        sender = self.whatsapp_from if whatsapp else self.from_
        if not (self.client.username and self.client.password and sender):
            raise OutboundError(
                "Twilio is not configured (TWILIO_ACCOUNT_SID/AUTH_TOKEN/FROM"
                + ("/WHATSAPP_FROM)" if whatsapp else ")")
            )
        if template and not self.whatsapp_template:
            raise OutboundError("no WhatsApp template is configured (TWILIO_WHATSAPP_TEMPLATE_SID)")
        if whatsapp:
            to = to if to.startswith("whatsapp:") else f"whatsapp:{to}"
        marker = sent_key(cid, key)
        try:
            claimed = self.redis.set(marker, PENDING, nx=True, ex=self.retention_seconds)
        except Exception as exc:
            raise OutboundError("Redis is unavailable: cannot guarantee a single send") from exc
        if not claimed:
            previous = store.text_of(self.redis.get(marker))
            if previous and previous != PENDING:
                return previous  # already sent: hand back the same SID, send nothing
            raise OutboundError("this message is already being sent")
        try:
            sid = self._create(to, body, sender, self.whatsapp_template if template else "")
        except OutboundError:
            self.redis.delete(marker)  # nothing went out (as far as Twilio told us): may retry
            raise
        try:
            self.redis.set(marker, sid, ex=self.retention_seconds)
            self.record_status(cid, sid, "queued")
        except Exception:  # it went out: say so; the "pending" marker still blocks a resend
            log.exception("sent %s but could not record it", sid)
        return sid

    def _create(self, to: str, body: str, sender: str, content_sid: str = "") -> str:
        """POST Messages.json, retrying 5xx, 429 and timeouts with exponential backoff."""
        params: dict[str, Any] = {"to": to}
        if content_sid:
            params["content_sid"] = content_sid  # a WhatsApp template approved by Meta
        else:
            params["body"] = body
        if sender.startswith("MG"):
            params["messaging_service_sid"] = sender
        else:
            params["from_"] = sender
        if self.status_url:
            params["status_callback"] = self.status_url
        last: Exception | None = None
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                return self.client.messages.create(**params).sid
            except TwilioRestException as exc:
                if exc.status < 500 and exc.status != 429:
                    raise OutboundError(f"Twilio refused the message: {exc.msg}") from exc
                last = exc
            except (requests.Timeout, requests.ConnectionError) as exc:
                last = exc
            log.warning("Twilio send failed (attempt %d/%d): %s", attempt + 1, self.attempts, last)
        raise OutboundError(f"Twilio did not accept the message after {self.attempts} tries")

    def record_status(self, cid: str, sid: str, status: str, known: bool = False) -> bool:
        """Keep `status` for message `sid` unless a later one is known; True if it changed.
        `known`: only for a message whose send was recorded (Twilio's reports)."""
        rank = STATUS_RANK.get(status, 0)
        changed = self.redis.eval(
            _SET_STATUS,
            2,
            status_key(cid),
            store.conv_key(cid),
            sid,
            status,
            rank,
            self.retention_seconds,
            "1" if known else "0",
        )
        if changed:
            store.touch(self.redis, cid)
        return bool(changed)

    def delivery(self, cid: str) -> dict[str, str]:
        """Latest known status of each operator SMS of the conversation, by message SID."""
        raw = self.redis.hgetall(status_key(cid))
        pairs = ((store.text_of(k), store.text_of(v)) for k, v in raw.items())
        return {k: v for k, v in pairs if ":" not in k}


@bp.post("/sms/status")
def status_callback() -> Response:
    """Twilio's delivery report for an operator SMS; refused (403) unless signed."""
    verify_twilio_signature()
    sid = request.form.get("MessageSid", "")
    status = request.form.get("MessageStatus", "")
    to = request.form.get("To", "").strip()
    if not (sid and status and to):
        return Response("", status=400)
    if status in ("failed", "undelivered"):
        log.warning("operator SMS %s %s (error %s)", sid, status, request.form.get("ErrorCode"))
    try:
        channel, number = sender_and_channel(to)
        services.outbound().record_status(f"{channel}:{number}", sid, status, known=True)
    except Exception:
        log.exception("could not record the delivery status of %s", sid)
        return Response("", status=503)
    return Response("", status=204)
