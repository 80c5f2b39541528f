"""Typo tolerance: keywords and key phrases still match with one or two edits per word.

Tolerance follows `bot.lexicon.max_edits`: four-letter words accept a swap of two letters
("hlep"), words of 5-7 letters one edit, longer words two (the first letter kept).
"""

import string

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import DamerauLevenshtein

from bot.classify import default_classifier
from bot.lexicon import correct, max_edits

# Whole-message keywords (intent, word) and key phrases (intent, phrase, the word that gets the
# typo): chosen for meaning, not taken from any data set.
KEYWORDS = [
    ("help", "help"), ("stop", "stop"), ("info", "info"), ("start", "start"),
    ("stop", "unsubscribe"), ("stop", "cancel"), ("start", "unstop"),
    ("talk_to_person", "advocate"), ("talk_to_person", "operator"),
    ("services", "shelter"), ("services", "lawyer"), ("get_involved", "volunteer"),
    ("get_involved", "donate"), ("resources", "statistics"), ("language", "spanish"),
    ("language", "english"), ("thanks", "thanks"), ("greeting", "hello"),
    ("help", "ayuda"), ("thanks", "gracias"), ("language", "francais"),
]
PHRASES = [
    ("emergency", "please he is hurting me", "hurting"),
    ("emergency", "they locked me inside the basement", "locked"),
    ("emergency", "i am trapped and cannot escape", "escape"),
    ("emergency", "he is threatening me with a knife", "threatening"),
    ("self_harm", "i want to kill myself tonight", "myself"),
    ("self_harm", "i am thinking about suicide", "suicide"),
    ("help", "my employer took my passport", "passport"),
    ("help", "they are forcing me to work", "forcing"),
    ("report", "i think my neighbor is being trafficked", "trafficked"),
    ("signs", "what are the signs of trafficking", "trafficking"),
    ("services", "i need a lawyer for immigration", "immigration"),
    ("get_involved", "how can i volunteer with you", "volunteer"),
    ("resources", "where is the global report on trafficking", "global"),
    ("talk_to_person", "can i talk to an advocate please", "advocate"),
]


@st.composite
def misspell(draw: st.DrawFn, word: str) -> str:
    """`word` with as many random edits as the matcher promises to forgive."""
    budget = max_edits(word)
    if len(word) == 4:
        i = draw(st.integers(1, 2))  # a swap of two inner letters
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    out = word
    for _ in range(draw(st.integers(1, budget))):
        i = draw(st.integers(1, len(out) - 1))  # keep the first letter
        kind = draw(st.sampled_from(["sub", "del", "ins", "swap"]))
        ch = draw(st.sampled_from(string.ascii_lowercase))
        if kind == "sub":
            out = out[:i] + ch + out[i + 1 :]
        elif kind == "del":
            out = out[:i] + out[i + 1 :]
        elif kind == "ins":
            out = out[:i] + ch + out[i:]
        elif i + 1 < len(out):
            out = out[:i] + out[i + 1] + out[i] + out[i + 2 :]
    return out


def _is_other_word(typo: str, original: str) -> bool:
    """A typo that happens to spell another known word is a different message, not a typo."""
    lex = default_classifier().lexicon
    tripled = any(a == b == c for a, b, c in zip(typo, typo[1:], typo[2:], strict=False))
    # three equal letters read as emphasis ("heeelp"), so normalise() collapses them
    if tripled or typo in lex.vocab or typo in lex.protected:
        return True
    # a typo as near to another known word ("aaocate" is one edit from French "avocate",
    # "hellp" one from "help" and from "hello") is ambiguous: the matcher may read either
    nearest = correct(lex, typo)
    return nearest != original and (
        DamerauLevenshtein.distance(typo, nearest) <= DamerauLevenshtein.distance(typo, original)
    )


@settings(max_examples=300, deadline=None)
@given(data=st.data(), case=st.sampled_from(KEYWORDS))
def test_keyword_typos(data: st.DataObject, case: tuple[str, str]) -> None:
    intent, word = case
    typo = data.draw(misspell(word))
    assume(typo != word and not _is_other_word(typo, word))
    assert default_classifier().classify(typo).intent == intent, typo


@settings(max_examples=300, deadline=None)
@given(data=st.data(), case=st.sampled_from(PHRASES))
def test_key_phrase_typos(data: st.DataObject, case: tuple[str, str, str]) -> None:
    intent, phrase, key = case
    assert default_classifier().classify(phrase).intent == intent
    words = phrase.split()
    index = words.index(key)
    typo = data.draw(misspell(words[index]))
    assume(typo != words[index] and not _is_other_word(typo, words[index]))
    words[index] = typo
    text = " ".join(words)
    assert default_classifier().classify(text).intent == intent, text
