"""All settings, read once from the environment with safe defaults."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


class ConfigError(ValueError):
    """A setting that cannot be used: start-up stops with this message."""


def _number(name: str, default: float, parse: Callable[[str], Any], what: str) -> Any:
    """A numeric setting; a value that is not one stops start-up (it is never ignored)."""
    value = _env(name, str(default)) or str(default)
    try:
        return parse(value)
    except ValueError:
        raise ConfigError(f"{name} must be {what}, not {value!r}") from None


def _int(name: str, default: int) -> int:
    return _number(name, default, int, "a whole number")


def _float(name: str, default: float) -> float:
    return _number(name, default, float, "a number")


@dataclass
class Config:
    """Everything the app reads from the environment; tests pass overrides to `create_app`."""

    REDIS_URL: str = field(default_factory=lambda: _env("REDIS_URL"))
    # 1: REDIS_URL names a node of a Redis Cluster (same as `?cluster=true` on the URL).
    REDIS_CLUSTER: bool = field(default_factory=lambda: _env("REDIS_CLUSTER") in ("1", "true"))
    DATA_DIR: str = field(default_factory=lambda: _env("DATA_DIR", str(ROOT / "var")))
    SECRET_KEY: str = field(default_factory=lambda: _env("SECRET_KEY"))
    TWILIO_AUTH_TOKEN: str = field(default_factory=lambda: _env("TWILIO_AUTH_TOKEN"))
    TWILIO_ACCOUNT_SID: str = field(default_factory=lambda: _env("TWILIO_ACCOUNT_SID"))
    # Number (or Messaging Service SID) that operator replies are sent from.
    TWILIO_FROM: str = field(default_factory=lambda: _env("TWILIO_FROM"))
    # WhatsApp sender (whatsapp:+1415... or a Messaging Service SID) and the Content SID (HX...)
    # of the approved template sent when the 24-hour window has closed.
    TWILIO_WHATSAPP_FROM: str = field(default_factory=lambda: _env("TWILIO_WHATSAPP_FROM"))
    TWILIO_WHATSAPP_TEMPLATE_SID: str = field(
        default_factory=lambda: _env("TWILIO_WHATSAPP_TEMPLATE_SID")
    )
    # Base URL of Twilio's REST API; tests point it at a local server.
    TWILIO_API_BASE: str = field(default_factory=lambda: _env("TWILIO_API_BASE"))
    # Seconds to wait for Twilio's REST API before retrying an operator SMS.
    TWILIO_TIMEOUT: int = field(default_factory=lambda: _int("TWILIO_TIMEOUT", 5))
    # Public base URL Twilio calls (https://example.org); used to verify signatures behind a proxy.
    PUBLIC_URL: str = field(default_factory=lambda: _env("PUBLIC_URL"))
    # Number of proxies in front of the app whose X-Forwarded-* headers are trusted.
    TRUSTED_PROXIES: int = field(default_factory=lambda: _int("TRUSTED_PROXIES", 0))
    # Host names the app answers, comma-separated (others: 400). Empty: PUBLIC_URL's host and
    # localhost, 127.0.0.1; without PUBLIC_URL only those two (bot/hosts.py).
    TRUSTED_HOSTS: str = field(default_factory=lambda: _env("TRUSTED_HOSTS"))
    EMERGENCY_NUMBER: str = field(default_factory=lambda: _env("EMERGENCY_NUMBER", "911"))
    CRISIS_LINE: str = field(default_factory=lambda: _env("CRISIS_LINE", "988"))
    INTENTS_DIR: str = field(default_factory=lambda: _env("INTENTS_DIR", str(ROOT / "intents")))
    RESPONSES_DIR: str = field(
        default_factory=lambda: _env("RESPONSES_DIR", str(ROOT / "responses"))
    )
    # How long a conversation (session, transcript) is kept after its last message.
    RETENTION_DAYS: int = field(default_factory=lambda: _int("RETENTION_DAYS", 30))
    # Minutes between sweeps that drop what expired conversations left behind; 0: off.
    SWEEP_MINUTES: int = field(default_factory=lambda: _int("SWEEP_MINUTES", 60))
    # A person silent longer than this may no longer hold the phone (Polaris's 15 minutes).
    SAFE_REPLY_MINUTES: int = field(default_factory=lambda: _int("SAFE_REPLY_MINUTES", 15))
    # A critical conversation unclaimed this long is flagged overdue in the console.
    OVERDUE_SECONDS: int = field(default_factory=lambda: _int("OVERDUE_SECONDS", 120))
    # Neutral page the widget's quick exit goes to.
    QUICK_EXIT_URL: str = field(
        default_factory=lambda: _env("QUICK_EXIT_URL", "https://www.bbc.co.uk/weather")
    )
    # Failed console logins allowed per account name, and per client address, in the window.
    LOGIN_MAX_PER_NAME: int = field(default_factory=lambda: _int("LOGIN_MAX_PER_NAME", 5))
    LOGIN_MAX_PER_ADDRESS: int = field(default_factory=lambda: _int("LOGIN_MAX_PER_ADDRESS", 20))
    LOGIN_WINDOW_SECONDS: int = field(default_factory=lambda: _int("LOGIN_WINDOW_SECONDS", 900))
    # After LOGIN_MAX_PER_NAME failures a name waits this long, doubled per further failure.
    LOGIN_BACKOFF_SECONDS: int = field(default_factory=lambda: _int("LOGIN_BACKOFF_SECONDS", 30))
    # A console login lasts at most this long, however active.
    CONSOLE_SESSION_HOURS: int = field(default_factory=lambda: _int("CONSOLE_SESSION_HOURS", 12))
    # How often an open console asks whether anything changed.
    CONSOLE_POLL_SECONDS: int = field(default_factory=lambda: _int("CONSOLE_POLL_SECONDS", 3))
    # Conversations per page of the console's queue (page 1 also holds every critical and high).
    CONSOLE_QUEUE_PAGE_SIZE: int = field(
        default_factory=lambda: _int("CONSOLE_QUEUE_PAGE_SIZE", 100)
    )
    # New web chats allowed per client address per hour: the web costs an abuser nothing.
    WIDGET_STARTS_PER_HOUR: int = field(default_factory=lambda: _int("WIDGET_STARTS_PER_HOUR", 30))
    # Web chat messages allowed per chat, and per client address, per minute: a person types one
    # every few seconds at most; a script sends hundreds (over the limit: 429, not stored).
    WIDGET_MESSAGES_PER_MINUTE: int = field(
        default_factory=lambda: _int("WIDGET_MESSAGES_PER_MINUTE", 30)
    )
    WIDGET_MESSAGES_PER_ADDRESS_PER_MINUTE: int = field(
        default_factory=lambda: _int("WIDGET_MESSAGES_PER_ADDRESS_PER_MINUTE", 120)
    )
    # Largest size of the local journal that keeps messages while Redis is unreachable.
    JOURNAL_MAX_MB: int = field(default_factory=lambda: _int("JOURNAL_MAX_MB", 64))
    # Seconds between background rounds (journal replay, embedded restart, held alerts); 0: off.
    UPKEEP_SECONDS: float = field(default_factory=lambda: _float("UPKEEP_SECONDS", 1))
    # Python logging level of the app's own log lines (DEBUG, INFO, WARNING, ERROR).
    LOG_LEVEL: str = field(default_factory=lambda: _env("LOG_LEVEL", "INFO").upper())
    TESTING: bool = False

    def as_mapping(self) -> dict[str, object]:
        """Every setting by name, for `app.config.from_mapping`."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def retention_seconds(config: Any) -> int:
    """How long a conversation is kept after its last message (RETENTION_DAYS), in seconds."""
    return (
        int(config["RETENTION_DAYS"] if isinstance(config, dict) else config.RETENTION_DAYS) * 86400
    )
