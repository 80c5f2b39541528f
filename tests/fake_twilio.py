"""A local stand-in for Twilio's REST API (Messages.json), so outbound SMS never leave the machine.

Request the `fake_twilio` fixture before `app` or `client` in a test's arguments: it points the
test's `app_config` at itself (TWILIO_API_BASE, TWILIO_FROM, PUBLIC_URL) before the app is built.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

FROM = "+15559990000"
PUBLIC_URL = "http://localhost"
WHATSAPP_FROM = "whatsapp:+14155550100"
TEMPLATE_SID = "HX" + "1" * 32
UNSUBSCRIBED = "+15550000000"  # sends to it fail like Twilio's 21610 after a STOP
_PATH = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/Messages\.json$")


class FakeTwilio:
    """Records every accepted message; can fail (`fail_next`) or hang (`hang_next`) on demand."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict[str, str]] = []  # accepted sends, as posted
        self.requests = 0  # every POST that reached the server
        self._fail: list[int] = []
        self._hang: list[float] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next `n` sends with `status` (and send nothing)."""
        with self._lock:
            self._fail += [status] * n

    def hang_next(self, n: int, seconds: float) -> None:
        """Sit on the next `n` sends for `seconds` before answering 500 (and send nothing)."""
        with self._lock:
            self._hang += [seconds] * n

    def _next_fault(self) -> tuple[int | None, float]:
        with self._lock:
            self.requests += 1
            if self._hang:
                return 500, self._hang.pop(0)
            if self._fail:
                return self._fail.pop(0), 0.0
        return None, 0.0

    def _accept(self, form: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        with self._lock:
            self.messages.append({**form, "Sid": sid})
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form.get("To"),
            "from": form.get("From"),
            "body": form.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                try:
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client timed out and left

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                expected = base64.b64encode(
                    f"{fake.account_sid}:{fake.auth_token}".encode()
                ).decode()
                match = _PATH.match(self.path)
                if self.headers.get("Authorization") != f"Basic {expected}":
                    return self.reply(401, {"code": 20003, "message": "Auth", "status": 401})
                if not match or match.group(1) != fake.account_sid:
                    return self.reply(404, {"code": 20404, "message": "Not found", "status": 404})
                status, delay = fake._next_fault()
                if delay:
                    time.sleep(delay)
                if status:
                    return self.reply(status, {"code": 20500, "message": "Error", "status": status})
                form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                if form.get("To") == UNSUBSCRIBED:
                    return self.reply(
                        400, {"code": 21610, "message": "Unsubscribed recipient", "status": 400}
                    )
                self.reply(201, fake._accept(form))

        return Handler

    def start(self) -> FakeTwilio:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_twilio(app_config: dict[str, Any]) -> Iterator[FakeTwilio]:
    """A running fake Twilio API; the test's app sends operator SMS to it."""
    fake = FakeTwilio(app_config["TWILIO_ACCOUNT_SID"], app_config["TWILIO_AUTH_TOKEN"]).start()
    app_config.update(
        TWILIO_API_BASE=fake.base,
        TWILIO_FROM=FROM,
        PUBLIC_URL=PUBLIC_URL,
        TWILIO_TIMEOUT=0.5,
        TWILIO_WHATSAPP_FROM=WHATSAPP_FROM,
        TWILIO_WHATSAPP_TEMPLATE_SID=TEMPLATE_SID,
    )
    yield fake
    fake.stop()
