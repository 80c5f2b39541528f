"""Turn a raw SMS body into the canonical form every matcher uses: one pass, no I/O."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from bot.datafiles import load_file
from bot.schemas import NORMALISE

MAX_CHARS = 1000  # longer bodies are cut: the first lines carry the request

WORDS_FILE = Path(__file__).resolve().parent.parent / "intents" / "normalise.yaml"


@cache
def words() -> tuple[dict[str, str], dict[str, str]]:
    """The emoji read as words and the shorthand expansions, from `intents/normalise.yaml`."""
    doc = load_file(WORDS_FILE, NORMALISE)
    emoji = {k: f" {v} " if v else " " for k, v in (doc.get("emoji") or {}).items()}
    return emoji, dict(doc.get("shorthand") or {})


_CONTRACTIONS = re.compile(r"(\w)['’](m|re|s|ll|ve|d|t)\b")
_NT = re.compile(r"n['’]t\b")
_REPEAT = re.compile(r"(\w)\1{2,}")
_NONWORD = re.compile(r"[^\w\u0900-\u0dff\u0600-\u06ff\u0e00-\u0eff]+")
_DIGITS_IN_WORD = re.compile(r"(?<=[a-z])0(?=[a-z])")


def _strip_latin_accents(text: str) -> str:
    """Drop combining marks on Latin letters only, so Devanagari or Arabic keep their vowels."""
    if text.isascii():
        return text
    out: list[str] = []
    base_is_latin = False
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            if base_is_latin:
                continue
        else:
            base_is_latin = ord(ch) < 0x0250 or 0x1E00 <= ord(ch) <= 0x1EFF
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def normalise(text: str) -> str:
    """`text` as NFKC, casefolded, accent-free, txt-speak expanded, tokens joined by spaces."""
    if not text:
        return ""
    text = text[:MAX_CHARS]
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        for emoji, word in words()[0].items():
            if emoji in text:
                text = text.replace(emoji, word)
    text = text.casefold()
    text = _NT.sub("nt", text)  # "don't" -> "dont" (expanded below)
    text = _CONTRACTIONS.sub(lambda m: m.group(1) + m.group(2), text)
    text = _strip_latin_accents(text)
    if not text.isascii():
        text = text.replace("ß", "ss").replace("ø", "o").replace("đ", "d").replace("ł", "l")
    text = _REPEAT.sub(r"\1", text)  # "heeelp" -> "help", "pleaseee" -> "please"
    text = _DIGITS_IN_WORD.sub("o", text)
    shorthand = words()[1]
    tokens: list[str] = []
    for token in _NONWORD.sub(" ", text).replace("_", " ").split():
        tokens.append(shorthand.get(token, token))
    return " ".join(tokens)
