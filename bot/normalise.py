"""Turn a raw SMS body into the canonical form every matcher uses: one pass, no I/O."""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 1000  # longer bodies are cut: the first lines carry the request

# Emoji that carry meaning become words; every other symbol becomes a space.
EMOJI_WORDS = {
    "🆘": " sos ", "🔪": " knife ", "🔫": " gun ", "🙏": " please ", "👋": " hi ",
    "🚨": " sos ", "😭": " ", "😂": " lol ", "🤣": " lol ", "💀": " ", "❤": " ", "👍": " ok ",
}

# Txt-speak and contractions, applied per token after casefolding.
TXT = {
    "u": "you", "ur": "your", "r": "are", "pls": "please", "plz": "please", "plez": "please",
    "pleez": "please", "plss": "please", "thx": "thanks", "thnx": "thanks", "thanx": "thanks",
    "ty": "thank you", "tnx": "thanks", "im": "i am", "ive": "i have",
    "dont": "do not", "cant": "can not", "cannot": "can not", "wont": "will not",
    "didnt": "did not", "doesnt": "does not", "isnt": "is not", "arent": "are not",
    "wasnt": "was not", "aint": "am not", "couldnt": "could not", "wouldnt": "would not",
    "havent": "have not", "hasnt": "has not", "shouldnt": "should not",
    "wanna": "want to", "gonna": "going to", "gotta": "got to", "lemme": "let me",
    "ppl": "people", "msg": "message", "msgs": "messages", "txt": "text", "txting": "texting",
    "msging": "messaging", "msgin": "messaging", "texing": "texting", "txtin": "texting",
    "b4": "before", "2day": "today", "2nite": "tonight", "bc": "because", "cuz": "because",
    "coz": "because", "pplz": "please", "rn": "right now", "asap": "right now",
    "hes": "he is", "shes": "she is", "theyre": "they are", "theres": "there is",
    "whats": "what is", "thats": "that is", "its": "it is", "youre": "you are",
    "xq": "porque", "pq": "porque", "q": "que", "k": "k", "tmb": "tambien", "tb": "tambien",
    "xfa": "por favor", "porfa": "por favor", "pf": "por favor", "stp": "s il te plait",
    "svp": "s il vous plait", "idk": "i do not know", "dunno": "do not know",
    "wat": "what", "wut": "what", "tho": "though", "nd": "and", "yr": "year", "yrs": "years",
    "hrs": "hours", "hr": "hour", "bf": "boyfriend", "gf": "girlfriend", "jsuis": "je suis",
    "chui": "je suis",
}

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
        for emoji, word in EMOJI_WORDS.items():
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
    tokens: list[str] = []
    for token in _NONWORD.sub(" ", text).replace("_", " ").split():
        tokens.append(TXT.get(token, token))
    return " ".join(tokens)
