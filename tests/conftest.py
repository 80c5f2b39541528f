"""Fixtures: a real Valkey server, the app wired to it, and Twilio-signed requests."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from twilio.request_validator import RequestValidator

from bot import create_app
from tests.fake_twilio import fake_twilio  # noqa: F401
from tests.servers import ValkeyProcess

AUTH_TOKEN = "test-auth-token"
HOTLINE = "1-888-373-7888"


def pytest_report_header() -> str:
    import subprocess

    from bot.embedded import valkey_binary

    out = subprocess.run([str(valkey_binary()), "--version"], capture_output=True, text=True)
    return out.stdout.strip()


@pytest.fixture(scope="session")
def valkey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValkeyProcess]:
    server = ValkeyProcess(tmp_path_factory.mktemp("valkey")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_client(valkey: ValkeyProcess) -> Iterator[redis.Redis]:
    if valkey.process is None or valkey.process.poll() is not None:
        valkey.start()  # a test may have stopped it
    client = redis.Redis.from_url(valkey.url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def app_config(valkey: ValkeyProcess, tmp_path: Any, redis_client: redis.Redis) -> dict[str, Any]:
    return {
        "TESTING": True,
        "REDIS_URL": valkey.url,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "SECRET_KEY": "test-secret",
        "DATA_DIR": str(tmp_path / "data"),
        "EMERGENCY_NUMBER": "911",
        "UPKEEP_SECONDS": 0,  # tests run the background work themselves (`run_once`)
    }


@pytest.fixture
def app(app_config: dict[str, Any]):
    return create_app(app_config)


@pytest.fixture
def client(app):
    return app.test_client()


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


@pytest.fixture
def send_sms(client) -> Callable[..., Any]:
    """POST a Twilio-signed message to /sms; returns the response."""

    def send(body: str, sender: str = "+15550001111", **extra: str) -> Any:
        params = {
            "From": sender,
            "To": "+15559990000",
            "Body": body,
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": "AC" + "0" * 32,
            **extra,
        }
        url = "http://localhost/sms"
        headers = {"X-Twilio-Signature": sign(url, params)}
        return client.post("/sms", data=params, headers=headers)

    return send


def messages(response: Any) -> list[str]:
    """The texts of the <Message> elements of a TwiML reply."""
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


def reply(response: Any) -> str:
    texts = messages(response)
    assert len(texts) == 1, texts
    return texts[0]
