"""The services the app factory binds to the app, read by request code through one typed
accessor each (the factory stores them in `app.extensions` under these names)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from bot.conversation import TriageLine
    from bot.faults import Faults
    from bot.outbound import Outbound


def line() -> TriageLine:
    """The triage line: content (contract, classifier, replies), numbers, Redis, journal."""
    return current_app.extensions["line"]


def outbound() -> Outbound:
    """Operator replies by SMS or WhatsApp, and their delivery reports."""
    return current_app.extensions["outbound"]


def faults() -> Faults:
    """What is wrong with this instance's storage (named in /healthz)."""
    return current_app.extensions["faults"]
