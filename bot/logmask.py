"""No log line carries a whole phone number or web-chat token, tracebacks included.

`install()` wraps the logging record factory, so every record of every logger (the app's,
gunicorn's, werkzeug's, a library's) is masked once, when it is made, whatever handler later
writes it: its message is rendered and masked, and so is the text of its exception. Numbers keep
their last 4 digits and tokens their last 4 characters, so operators can still match a line to
a conversation: `+15550001111` -> `+*******1111`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# E.164, 8 to 15 digits (also in `sms:+1...` ids, `tl:conv:{sms:+1...}` keys, and URL-encoded).
_PHONE = re.compile(r"(?<![\w+%])(\+|%2[Bb])(\d{4,11})(\d{4})(?!\d)")
# bot/widget/tokens.py: 24 URL-safe characters, a dot, a 16-character signature.
_TOKEN = re.compile(r"(?<![\w-])[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{12}([A-Za-z0-9_-]{4})(?![\w-])")
_FORMATTER = logging.Formatter()


def mask(text: str) -> str:
    """`text` with every phone number and chat token masked but for its last 4 characters."""
    text = _PHONE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)
    return _TOKEN.sub(lambda m: "*" * 37 + m.group(1), text)


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask `record` in place: its message (arguments merged in) and its exception's text."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it when the record is written
        return record
    record.msg, record.args = mask(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = _FORMATTER.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask(record.exc_text)
    if record.stack_info:
        record.stack_info = mask(record.stack_info)
    return record


def install() -> None:
    """Mask every log record made from now on in this process (idempotent)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "masks", False):
        return

    def masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(factory(*args, **kwargs))

    masked.masks = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masked)
