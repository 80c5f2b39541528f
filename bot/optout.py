"""Twilio keyword rules: a message that is one keyword alone opts out, opts in or asks help.

These lists stay in code, not in a data file, on purpose: they must equal what the Messaging
Service's Advanced Opt-Out is configured with (docs/operations.md), and STOP must keep working
when a data file is broken. The classifier's own keywords are data (intents/keywords.yaml).
"""

from __future__ import annotations

# Twilio's defaults plus Advanced Opt-Out's REVOKE/OPTOUT; the translated ones must be added to
# the Messaging Service's Advanced Opt-Out keywords too (README), so both sides agree.
OPT_OUT = frozenset(
    {
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "PARAR",
        "ARRET",
        "ARRÊT",
    }
)
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
HELP = frozenset({"HELP", "INFO", "AYUDA", "AIDE"})


def keyword(body: str) -> str | None:
    """The keyword a body is, as Twilio reads it (trimmed, any case), or None for other text."""
    word = body.strip().upper()
    if word in OPT_OUT:
        return "stop"
    if word in OPT_IN:
        return "start"
    if word in HELP:
        return "help"
    return None
