"""Logs never carry a whole phone number or web-chat token, in messages or tracebacks (issue 12):
numbers keep their last 4 digits, tokens their last 4 characters."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
import requests

from bot.logmask import mask
from tests.log_app import NUMBER, TOKEN
from tests.servers import Gunicorn

MASKED_NUMBER = "+*******1111"
MASKED_TOKEN = "*" * 37 + "WXYZ"


def fails_with_the_number() -> None:
    raise ValueError(f"Twilio refused {NUMBER} for tl:conv:{{sms:{NUMBER}}} (chat web:{TOKEN})")


def test_masks_keep_the_last_four():
    assert (
        mask(f"to {NUMBER}, sms:{NUMBER}, ?From=%2B15550001111")
        == f"to {MASKED_NUMBER}, sms:{MASKED_NUMBER}, ?From=%2B*******1111"
    )
    assert mask(f"token={TOKEN}&since=3") == f"token={MASKED_TOKEN}&since=3"
    assert mask("at 1712345678.123, 911, +12, 42 ms") == "at 1712345678.123, 911, +12, 42 ms"


def test_messages_and_tracebacks_are_masked(app, caplog):
    log = logging.getLogger("bot.anything")
    with caplog.at_level(logging.INFO):
        log.info("reply to %s in chat %s", NUMBER, TOKEN)
        try:
            fails_with_the_number()
        except ValueError:
            log.exception("operator reply failed")
    assert "Traceback" in caplog.text and "fails_with_the_number" in caplog.text
    assert MASKED_NUMBER in caplog.text and MASKED_TOKEN in caplog.text
    assert NUMBER not in caplog.text and TOKEN not in caplog.text
    assert "5550001111" not in caplog.text and TOKEN[:24] not in caplog.text


@pytest.mark.slow
def test_gunicorn_and_the_app_log_masked(valkey, tmp_path: Path):
    env = {
        "REDIS_URL": valkey.url,
        "SECRET_KEY": "logs",
        "DATA_DIR": str(tmp_path / "data"),
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": "INFO",
    }
    log = tmp_path / "gunicorn.log"
    with Gunicorn("tests.log_app:app", env, log) as server:
        assert requests.get(f"{server.url}/boom", timeout=10).status_code == 500
        deadline = time.monotonic() + 10
        while "RuntimeError" not in log.read_text(errors="replace"):
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
            time.sleep(0.05)
    text = log.read_text(errors="replace")
    assert "gunicorn's log: text from " + MASKED_NUMBER in text
    assert f"the app's log: web:{MASKED_TOKEN} and sms:{MASKED_NUMBER}" in text
    assert f"RuntimeError: could not text {MASKED_NUMBER} (chat {MASKED_TOKEN})" in text
    assert "5550001111" not in text and TOKEN[:24] not in text
