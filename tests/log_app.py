"""The line with one more route, whose error carries a phone number and a chat token: tests/
test_logs.py runs it under gunicorn as the Procfile runs the app, and reads what it logged."""

from __future__ import annotations

import logging

from bot import create_app

NUMBER = "+15550001111"
TOKEN = "AbCdEfGhIjKlMnOpQrStUvWx.0123456789abWXYZ"  # the shape of bot/widget/tokens.py's

app = create_app()


@app.get("/boom")
def boom() -> str:
    logging.getLogger("gunicorn.error").warning("gunicorn's log: text from %s", NUMBER)
    logging.getLogger("bot.sms").warning("the app's log: web:%s and sms:%s", TOKEN, NUMBER)
    raise RuntimeError(f"could not text {NUMBER} (chat {TOKEN})")
