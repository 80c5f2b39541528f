"""The chat API the widget calls: start, send, poll, end. JSON in and out, no cookies.

Each message goes through `TriageLine.receive("web", token, text)`, the same pipeline as SMS.
Bad input gets a 4xx JSON error, never a 500; if storage fails the person still gets the reply.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from typing import Any

from flask import Response, current_app, jsonify, request

from bot import services, store
from bot.replies import HOTLINE, TEXTLINE
from bot.safety import looks_dangerous, safe_reply
from bot.widget import bp, tokens

log = logging.getLogger(__name__)
MAX_TEXT = 1600  # characters in one message, as for SMS
MAX_BODY_BYTES = 16 * 1024


class ApiError(Exception):
    """An input problem answered as `{"error": code, "message": ...}` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@bp.errorhandler(ApiError)
def api_error(error: ApiError) -> tuple[Response, int]:
    """An ApiError as its JSON body `{error, message}`, with its status."""
    return jsonify(error=error.code, message=error.message), error.status


@bp.after_request
def api_headers(response: Response) -> Response:
    """Open CORS on the API (no cookies are used) and keep transcripts out of every cache."""
    if request.path.startswith("/chat/api/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "7200"
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def read_body() -> dict[str, Any]:
    """The request's JSON object, whatever its Content-Type (sendBeacon sends text/plain)."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", "The request body is too large.")
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", "The request body is too large.")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "bad_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "The request body must be a JSON object.")
    return data


def check_token(token: Any) -> str:
    """The token if this app issued it; :raise ApiError 404: otherwise."""
    if not tokens.is_valid(current_app.config["SECRET_KEY"], token):
        raise ApiError(404, "unknown_token", "This conversation is unknown: start a new one.")
    return token


MAX_SINCE = 10**9  # far beyond any transcript; Redis list indexes stop at 2**63


def read_since(value: Any) -> int:
    """The transcript index a poll starts from: a whole number 0..MAX_SINCE, as a JSON integer
    or a string of digits; absent means 0. :raise ApiError 400: with the reason otherwise."""
    if value is None:
        return 0
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        value = int(value.strip()[:20])  # 20 characters already say "too large" or "negative"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, "bad_since", "'since' must be a whole number, like 0 or 12.")
    if value < 0:
        raise ApiError(400, "bad_since", "'since' must not be negative.")
    if value > MAX_SINCE:
        raise ApiError(400, "bad_since", f"'since' must be at most {MAX_SINCE}.")
    return value


def public_entry(entry: store.Entry) -> dict[str, str]:
    """What the person may see of a transcript line: who (not the operator's name) and the text."""
    if entry.direction == "in":
        who = "person"
    elif entry.sender.startswith("operator:"):
        who = "operator"
    else:
        who = "bot"
    return {"from": who, "text": entry.text}


def entries_since(cid: str, since: int) -> dict[str, Any]:
    """Transcript lines from index `since`; if the transcript shrank (erased), all of it again."""
    pipe = current_app.redis.pipeline(transaction=False)
    pipe.llen(store.log_key(cid))
    pipe.lrange(store.log_key(cid), since, -1)
    length, raw = pipe.execute()
    reset = since > length
    if reset:
        raw, since = current_app.redis.lrange(store.log_key(cid), 0, -1), 0
    lines = [public_entry(store.Entry.from_json(item)) for item in raw]
    return {"entries": lines, "next": since + len(lines), "reset": reset}


def address_id() -> str:
    """The client address under a keyed hash: no visitor's IP address is written anywhere."""
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, (request.remote_addr or "").encode(), hashlib.sha256).hexdigest()
    return digest[:24]


def too_many_starts() -> bool:
    """Count this address's new chats in the hour; if Redis is down, let the person in."""
    key = f"tl:webstart:{address_id()}"
    try:
        pipe = current_app.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, 3600, nx=True)
        count, _ = pipe.execute()
    except Exception:
        log.exception("could not count new web chats")
        return False
    return int(count) > int(current_app.config["WIDGET_STARTS_PER_HOUR"])


def wait_before_sending(token: str) -> int:
    """Seconds to wait if this chat or this address sent too many messages in its minute, else 0.

    Counters shared by every worker (INCR and EXPIRE in one pipeline). If Redis is down, 0:
    nobody is silenced because a counter is unreachable.
    """
    config = current_app.config
    limits = [
        (f"tl:webmsg:{{web:{token}}}", int(config["WIDGET_MESSAGES_PER_MINUTE"])),
        (f"tl:webmsgaddr:{address_id()}", int(config["WIDGET_MESSAGES_PER_ADDRESS_PER_MINUTE"])),
    ]
    try:
        pipe = current_app.redis.pipeline(transaction=False)
        for key, _ in limits:
            pipe.incr(key)
            pipe.expire(key, 60, nx=True)
            pipe.ttl(key)
        counted = pipe.execute()
    except Exception:
        log.exception("could not count web chat messages; letting the message through")
        return 0
    wait = 0
    for n, (_, limit) in enumerate(limits):
        count, _, ttl = counted[3 * n : 3 * n + 3]
        if int(count) > limit:
            wait = max(wait, int(ttl), 1)
    return wait


def refuse_flood(text: str, wait: int) -> tuple[Response, int, dict[str, str]]:
    """429: the message is not stored; danger still gets the built-in reply with 911 and hotline."""
    emergency = current_app.config["EMERGENCY_NUMBER"]
    message = (
        f"Your message was not sent: too many messages came from this chat or network. Wait "
        f"{wait} seconds and send it again. In danger now? Call {emergency}. Hotline: {HOTLINE}, "
        f"text {TEXTLINE}."
    )
    reply = safe_reply(text, emergency) if looks_dangerous(text) else None
    body = jsonify(error="too_many", message=message, retry_after=wait, reply=reply)
    return body, 429, {"Retry-After": str(wait)}


@bp.post("/chat/api/start")
def start() -> tuple[Response, int]:
    """A new conversation token; nothing is stored until the first message."""
    if too_many_starts():
        raise ApiError(
            429,
            "too_many_chats",
            f"Too many new chats from this network. Call {HOTLINE} or text {TEXTLINE}, 24/7.",
        )
    return jsonify(token=tokens.new_token(current_app.config["SECRET_KEY"])), 201


@bp.post("/chat/api/messages")
def send() -> Response | tuple[Response, int, dict[str, str]]:
    """Run one message through the triage pipeline; answer with the new transcript lines."""
    data = read_body()
    token = check_token(data.get("token"))
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "empty_text", "Write a message first.")
    if len(text) > MAX_TEXT:
        raise ApiError(400, "text_too_long", f"A message can be at most {MAX_TEXT} characters.")
    since = read_since(data.get("since"))
    wait = wait_before_sending(token)
    if wait:
        return refuse_flood(text, wait)
    cid = f"web:{token}"
    language = None  # the reply's language: the widget follows it
    try:
        # the browser's language, a hint for a first bare keyword, if we have replies in it
        line = services.line()
        hint = data.get("lang") if data.get("lang") in (line.content.replies or {}) else None
        outcome = line.receive("web", token, text, language_hint=hint)
        reply, stored, language = outcome.reply, outcome.stored, outcome.language
    except Exception:
        log.exception("web chat message failed; answering with the built-in reply")
        reply, stored = safe_reply(text, current_app.config["EMERGENCY_NUMBER"]), False
    if stored:
        try:
            return jsonify(reply=reply, language=language, **entries_since(cid, since))
        except Exception:  # kept in the journal while Redis is away: it will be at these places
            log.warning("could not read back the web transcript")
    lines = [{"from": "person", "text": text}] + ([{"from": "bot", "text": reply}] if reply else [])
    after = since + len(lines) if stored else since
    return jsonify(
        reply=reply, language=language, entries=lines, next=after, reset=False, stored=stored
    )


@bp.get("/chat/api/messages")
def poll() -> Response | tuple[Response, int]:
    """Transcript lines after index `since`, so operator replies reach the widget."""
    token = check_token(request.args.get("token"))
    since = read_since(request.args.get("since"))
    try:
        return jsonify(**entries_since(f"web:{token}", since))
    except Exception:
        log.exception("web chat poll failed")
        return jsonify(error="unavailable", message="The chat is unavailable right now."), 503


@bp.post("/chat/api/end")
def end() -> Response | tuple[Response, int]:
    """Close the conversation (quick exit sends this as a beacon and does not wait)."""
    token = check_token(read_body().get("token"))
    cid = f"web:{token}"
    r = current_app.redis
    try:
        if r.exists(store.conv_key(cid)):  # close() on nothing would leave a hash without TTL
            store.close(r, cid, ended_by="person")  # a quick exit: the console says so
    except Exception:
        log.exception("could not close a web conversation")
        return jsonify(error="unavailable", message="The chat is unavailable right now."), 503
    return jsonify(ended=True)
