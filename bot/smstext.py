"""SMS length rules: GSM-7 versus UCS-2, segment counts, and Twilio-style smart encoding."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# The GSM 03.38 basic set; the extension set costs two septets per character.
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")

# Lookalikes outside GSM-7, replaced as Twilio's Smart Encoding does, so a reply stays GSM-7.
_SMART = {
    "‘": "'",
    "’": "'",
    "‚": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "–": "-",
    "—": "-",
    "…": "...",
    "\u00a0": " ",
    "«": '"',
    "»": '"',
    "œ": "oe",
    "Œ": "OE",
    "ç": "c",
}


def is_gsm7(text: str) -> bool:
    """Whether one GSM-7 SMS segment can carry every character (no switch to UCS-2)."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


# Stripping marks from more than this share of the characters loses meaning (Vietnamese tones).
MAX_STRIPPED = 0.08


@lru_cache(maxsize=512)  # replies come from a small set of texts
def smart_encode(text: str) -> str:
    """GSM-7 lookalikes for the few characters outside GSM-7 (’ -> ', á -> a), so the reply
    costs half the segments; the text unchanged when that would not make it GSM-7 or would
    strip marks from many letters (a Vietnamese or Polish reply is sent as written)."""
    out = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENDED:
            out.append(ch)
        elif ch in _SMART:
            out.append(_SMART[ch])
        else:
            base = "".join(
                c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)
            )
            out.append(base if base and all(c in GSM7_BASIC for c in base) else ch)
    encoded = "".join(out)
    stripped = sum(1 for a, b in zip(text, out, strict=True) if a != b and a not in _SMART)
    if not is_gsm7(encoded) or stripped > MAX_STRIPPED * len(text):
        return text
    return encoded


def segments(text: str) -> int:
    """How many SMS parts `text` takes: 160/153 septets in GSM-7, 70/67 characters in UCS-2."""
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, part = 160, 153
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
    if units <= single:
        return 1
    return -(-units // part)
