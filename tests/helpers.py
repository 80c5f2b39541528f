"""What the tests share besides fixtures: constants, signed webhook requests, TwiML parsing,
transcripts, the web chat, the console's login and forms, and an env file for the command line.

Test modules import helpers from here, servers from tests/servers.py, and take fixtures from
conftest.py; they never import one another, nor bench/.
"""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests
from twilio.request_validator import RequestValidator

from bot import envfile, flood, store
from bot.triage.head import Settings

AUTH_TOKEN = "test-auth-token"
HOTLINE = "1-888-373-7888"
SMS_URL = "http://localhost/sms"  # what the test client's requests are signed for
LINE_NUMBER = "+15559990000"  # the line's own number, the `To` of every inbound SMS

PASSWORD = "correct horse battery"  # every test operator's
CRITICAL_TEXT = "he is going to hurt me"  # read as emergency: a critical conversation
LOW_TEXT = "hi"  # read as a greeting: a low-priority conversation
# a wrap-up, as the close form sends it
WRAPUP = {"outcome": "referred_hotline", "exploitation": "labour", "minor": "yes"}


# --- the Twilio webhook -------------------------------------------------------------------------


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post_sms(client: Any, body: str, sender: str, **extra: str) -> Any:
    """POST a Twilio-signed inbound SMS to /sms with a Flask test client; the response."""
    params = {"From": sender, "To": LINE_NUMBER, "Body": body, **extra}
    headers = {"X-Twilio-Signature": sign(SMS_URL, params)}
    return client.post("/sms", data=params, headers=headers)


def post_sms_over_http(base: str, public_url: str, body: str, sender: str) -> requests.Response:
    """POST a signed inbound SMS to a server running at `base` whose PUBLIC_URL is `public_url`
    (the address Twilio signs for)."""
    params = {"From": sender, "To": LINE_NUMBER, "Body": body}
    headers = {"X-Twilio-Signature": sign(f"{public_url}/sms", params)}
    return requests.post(f"{base}/sms", data=params, headers=headers, timeout=10)


def status_callback(client: Any, **form: str) -> Any:
    """POST Twilio's signed delivery report `form` to /sms/status; the response."""
    headers = {"X-Twilio-Signature": sign("http://localhost/sms/status", form)}
    return client.post("/sms/status", data=form, headers=headers)


def delivered(client: Any, sid: str, to: str, sender: str = LINE_NUMBER) -> int:
    """Twilio reports the message `sid` from `sender` delivered to `to`; the status code."""
    report = {"MessageSid": sid, "MessageStatus": "delivered", "To": to, "From": sender}
    return status_callback(client, **report).status_code


def messages(response: Any) -> list[str]:
    """The texts of the <Message> elements of a TwiML reply (a Flask test response, or a
    `requests` one from a real server)."""
    if isinstance(response, requests.Response):
        body, mimetype = response.content, response.headers["Content-Type"].split(";")[0]
    else:
        body, mimetype = response.data, response.mimetype
    assert response.status_code == 200, body
    assert mimetype == "text/xml"
    root = ET.fromstring(body)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


def reply(response: Any) -> str:
    texts = messages(response)
    assert len(texts) == 1, texts
    return texts[0]


def inbound(r: Any, sender: str) -> list[str]:
    """What `sender` wrote by SMS, as stored in the transcript, oldest first."""
    return [e.text for e in store.transcript(r, f"sms:{sender}") if e.direction == "in"]


def away_from_window_edge() -> None:
    """Flood counts start afresh each WINDOW: keep a test's burst inside one window."""
    left = flood.WINDOW - time.time() % flood.WINDOW
    if left < 15:
        time.sleep(left + 0.1)


def start_web_chat(client: Any, text: str) -> str:
    """Start a web chat and send `text` in it; the chat's token."""
    token = client.post("/chat/api/start").get_json()["token"]
    response = client.post("/chat/api/messages", json={"token": token, "text": text})
    assert response.status_code == 200, response.status_code
    return token


# --- the operator console -----------------------------------------------------------------------


def csrf_token(client: Any, path: str = "/console/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def login(client: Any, name: str, password: str = PASSWORD, **kw: Any) -> Any:
    data = {"name": name, "password": password, "csrf_token": csrf_token(client)}
    return client.post("/console/login", data=data, **kw)


def logged_in(app: Any, name: str) -> Any:
    client = app.test_client()
    assert login(client, name).status_code == 302
    return client


def post(client: Any, path: str, **data: str) -> Any:
    """A console form POST with the CSRF token of the queue page."""
    data["csrf_token"] = csrf_token(client, "/console/")
    return client.post(path, data=data)


def texts(app: Any, address: str, text: str, *, ago: float = 0, channel: str = "sms") -> Any:
    """A message from a person, `ago` seconds in the past, through the real pipeline."""
    return app.extensions["line"].receive(channel, address, text, now=time.time() - ago)


def queue(client: Any) -> list[dict[str, Any]]:
    response = client.get("/console/api/queue")
    assert response.status_code == 200
    return response.get_json()["rows"]


def row_for(client: Any, suffix: str) -> dict[str, Any]:
    (row,) = [r for r in queue(client) if r["number"].endswith(suffix)]
    return row


def page(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# --- the command line ---------------------------------------------------------------------------


def env_file(monkeypatch: Any, tmp_path: Path, text: str, unset: Iterable[str]) -> None:
    """`text` as the default .env (in `tmp_path`), and the variables `unset` not set, so that
    the .env decides them (monkeypatch restores all afterwards)."""
    (tmp_path / ".env").write_text(text, encoding="utf-8")
    for key in unset:
        monkeypatch.setenv(key, "x")  # so that monkeypatch restores them afterwards
        monkeypatch.delenv(key)
    monkeypatch.setattr(envfile, "DEFAULT", tmp_path / ".env")


# --- a small head, trained in seconds -----------------------------------------------------------

SMALL = Settings(hidden=16, members=2, steps=60, neighbours=3)
EXAMPLES = [
    ("he is hitting me right now", "emergency"),
    ("they locked me in the room", "emergency"),
    ("i want to end my life", "self_harm"),
    ("i have pills saved to die", "self_harm"),
    ("my boss took my passport", "help"),
    ("i need help please", "help"),
    ("what time is the game tonight", "unknown"),
    ("pick up milk on the way", "unknown"),
    ("hello there", "greeting"),
    ("thanks a lot", "thanks"),
]


def write_set(directory: Path, rows: list[tuple[str, str]]) -> None:
    """A training or evaluation set of (text, intent) rows, in English, as `set.jsonl`."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "set.jsonl", "w", encoding="utf-8") as out:
        for text, intent in rows:
            out.write(json.dumps({"text": text, "intent": intent, "language": "en"}) + "\n")
