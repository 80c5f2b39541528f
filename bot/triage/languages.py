"""Which language a message is in: its script, then a language head over the same sentence
vector the intents are read from (trained with them by `python -m bot train`)."""

from __future__ import annotations

import unicodedata
from collections import Counter
from functools import lru_cache

import numpy as np

from bot.triage.head import Head

# Unicode blocks of the scripts people write to the line in; everything else counts as Latin
# when it is a letter (Latin, with its accents) and as nothing otherwise.
SCRIPTS = (
    (0x0370, 0x03FF, "greek"),
    (0x0400, 0x04FF, "cyrillic"),
    (0x0530, 0x058F, "armenian"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0980, 0x09FF, "bengali"),
    (0x0A00, 0x0A7F, "gurmukhi"),
    (0x0A80, 0x0AFF, "gujarati"),
    (0x0B00, 0x0B7F, "oriya"),
    (0x0B80, 0x0BFF, "tamil"),
    (0x0C00, 0x0C7F, "telugu"),
    (0x0C80, 0x0CFF, "kannada"),
    (0x0D00, 0x0D7F, "malayalam"),
    (0x0D80, 0x0DFF, "sinhala"),
    (0x0E00, 0x0E7F, "thai"),
    (0x0E80, 0x0EFF, "lao"),
    (0x1000, 0x109F, "myanmar"),
    (0x10A0, 0x10FF, "georgian"),
    (0x1100, 0x11FF, "hangul"),
    (0x1200, 0x139F, "ethiopic"),
    (0x1780, 0x17FF, "khmer"),
    (0x1800, 0x18AF, "mongolian"),
    (0x3040, 0x30FF, "kana"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xAC00, 0xD7AF, "hangul"),
    (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
)
SHORT = 2  # words: a text this short keeps the conversation's language unless it is clear
CLEAR = 0.8  # ... clear meaning at least this probability


@lru_cache(maxsize=4096)
def _script_of_char(ch: str) -> str | None:
    o = ord(ch)
    if o < 0x0370:
        return "latin" if ch.isalpha() else None
    for lo, hi, name in SCRIPTS:
        if lo <= o <= hi:
            return name
    if 0x1E00 <= o <= 0x1EFF:
        return "latin"
    return None


def script_of(text: str) -> str:
    """The script most of the text's letters are in ("latin" when it has none)."""
    counts = Counter(s for ch in text if (s := _script_of_char(ch)))
    if counts.get("kana"):
        return "kana"  # Japanese mixes kana with Han characters
    return counts.most_common(1)[0][0] if counts else "latin"


class LanguageReader:
    """Names a message's language from its script and its sentence vector."""

    def __init__(self, head: Head, scripts: dict[str, list[str]]) -> None:
        self.head = head
        self.scripts = scripts  # script -> languages seen written in it during training
        self._index = {lang: i for i, lang in enumerate(head.intents)}

    def read(self, text: str, vector: np.ndarray, conversation_language: str | None) -> str:
        """ISO 639-1 code; short or unclear texts keep `conversation_language` (or "en")."""
        default = conversation_language or "en"
        allowed = self.scripts.get(script_of(text), [])
        if len(allowed) == 1:
            return allowed[0]
        probs = self.head.probabilities(vector[None, :])[0]
        candidates = [self._index[lang] for lang in allowed if lang in self._index]
        if not candidates:
            return default
        best = max(candidates, key=lambda i: probs[i])
        share = probs[best] / max(float(probs[candidates].sum()), 1e-9)
        words = len(unicodedata.normalize("NFKC", text).split())
        if conversation_language and words <= SHORT and share < CLEAR:
            return conversation_language
        return self.head.intents[best]


def scripts_of_languages(
    texts: list[str], languages: list[str], least: int = 3
) -> dict[str, list[str]]:
    """For each script, the languages with at least `least` training texts written in it."""
    seen = Counter((script_of(t), lang) for t, lang in zip(texts, languages, strict=True))
    out: dict[str, list[str]] = {}
    for (script, lang), count in sorted(seen.items()):
        if count >= least:
            out.setdefault(script, []).append(lang)
    return out
