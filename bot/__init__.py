"""Text and chat triage line for people affected by human trafficking."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the web app (imported lazily so `python -m bot classify` stays free of Flask)."""
    from bot.factory import build_app

    return build_app(overrides)
