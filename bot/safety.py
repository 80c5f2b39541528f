"""The last line of defence: a reply with the hotline that needs no data file, model or server."""

from __future__ import annotations

import re

from bot.replies import fallback_text

# Crude danger cues for when the classifier itself is unavailable; over-warning is the safe side.
_DANGER = re.compile(
    r"\b(hurt|kill|knife|gun|locked|lock(ed)? me|trapped|beat|hit(ting)? me|rape|"
    r"help me now|emergency|socorro|peligro|encerrad[ao]|au secours|danger|enferm[ée]e?)\b",
    re.IGNORECASE,
)


def looks_dangerous(text: str) -> bool:
    """Whether the text has a danger cue (over-warning is the safe side)."""
    return bool(_DANGER.search(text or ""))


def safe_reply(text: str, emergency_number: str) -> str:
    """The hotline reply, with the emergency number first if `text` looks dangerous."""
    return fallback_text(emergency_number, danger=looks_dangerous(text))
