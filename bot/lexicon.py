"""Load `intents/` into lookup tables: phrases by first words, keywords, and a typo index."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from bot.datafiles import DataError, data_files, line_of, load_file
from bot.normalise import normalise

ANY = "any"  # keywords that belong to no language (HELP, STOP): reported in the conversation's


@dataclass(frozen=True)
class Phrase:
    """One phrase of an intent, already normalised into tokens."""

    intent: str
    tokens: tuple[str, ...]
    weight: float
    language: str
    text: str
    negatable: bool
    switch_to: str | None = None


@dataclass
class Lexicon:
    """All phrases and keywords of a directory, indexed for token-level matching."""

    intents: list[str] = field(default_factory=list)
    by_first: dict[str, list[Phrase]] = field(default_factory=dict)
    cjk: list[Phrase] = field(default_factory=list)
    keywords: dict[str, Phrase] = field(default_factory=dict)
    negations: frozenset[str] = frozenset()
    negation_fillers: frozenset[str] = frozenset()  # "not really locked in": reached across
    negated_stops: frozenset[str] = frozenset()  # "will not stop hitting me": still danger
    vocab: set[str] = field(default_factory=set)
    protected: set[str] = field(default_factory=set)
    deletes: dict[str, set[str]] = field(default_factory=dict)
    whole_only: set[str] = field(default_factory=set)
    not_now: tuple[tuple[str, ...], ...] = ()  # "last year", "in the movie": no danger now
    now: frozenset[str] = frozenset()  # "now", "tonight": the danger is current after all
    joking: tuple[str, ...] = ()  # "lol", "jaja", "mdr" (drawn out too: "jajaja"): a joke
    first_person: frozenset[str] = frozenset()
    reporting: frozenset[str] = frozenset()
    politeness: tuple[tuple[str, ...], ...] = ()
    outranks: dict[str, frozenset[str]] = field(default_factory=dict)
    outranks_weak: dict[str, frozenset[str]] = field(default_factory=dict)
    combos: list[Combo] = field(default_factory=list)
    singles: dict[str, list[Phrase]] = field(default_factory=dict)
    by_pair: dict[tuple[str, str], list[Phrase]] = field(default_factory=dict)
    word_rank: dict[str, int] = field(default_factory=dict)  # ties in typo correction
    word_count: dict[str, int] = field(default_factory=dict)  # phrases using each word
    others: dict[str, tuple[str, ...]] = field(default_factory=dict)


def max_edits(word: str) -> int:
    """Typos tolerated in a word of this length: none up to 3 letters, one up to 8, then two."""
    n = len(word)
    return 0 if n <= 3 else 1 if n <= 8 else 2


def _deletes(word: str, depth: int) -> set[str]:
    """Every string obtained by deleting up to `depth` characters (SymSpell-style index keys)."""
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def _is_cjk(text: str) -> bool:
    """Scripts matched as substrings: Chinese has no spaces, Arabic glues clitics to words."""
    return any("\u3400" <= ch <= "\u9fff" or "\u0600" <= ch <= "\u06ff" for ch in text)


@dataclass(frozen=True)
class Combo:
    """Words from every group near each other: ("took", "passport") in any language or order."""

    intent: str
    groups: tuple[frozenset[str], ...]
    window: int
    weight: float
    negatable: bool
    text: str


def _items(value: Any, path: Path, where: str) -> list[tuple[str, float]]:
    """A list of `text` or `{text: weight}` entries as (text, weight) pairs."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise DataError(path, f"{where} must be a list", line_of(path, where.split(".")[-1]))
    out = []
    for item in value:
        if isinstance(item, str | int | float) and not isinstance(item, bool):
            out.append((str(item), 1.0))
        elif isinstance(item, dict) and len(item) == 1:
            text, weight = next(iter(item.items()))
            if not isinstance(weight, int | float):
                where_line = line_of(path, str(text))
                raise DataError(path, f"weight of {text!r} must be a number", where_line)
            out.append((str(text), float(weight)))
        elif isinstance(item, bool):
            raise DataError(path, f"{where}: YAML reads an unquoted yes/no/on/off as {item}; "
                            "quote it", None)
        else:
            raise DataError(path, f"bad entry in {where}: {item!r}", line_of(path, str(item)[:20]))
    return out


def _by_language(doc: dict, key: str, path: Path) -> dict[str, Any]:
    section = doc.get(key) or {}
    if not isinstance(section, dict):
        raise DataError(path, f"`{key}` must map language codes to lists", line_of(path, key + ":"))
    return section


def _token_lists(doc: dict, key: str, path: Path) -> list[tuple[str, ...]]:
    """The normalised entries of a settings list (every language), each as a tuple of words."""
    out = []
    for _lang, words in _by_language(doc, key, path).items():
        for word, _w in _items(words, path, key):
            tokens = tuple(normalise(word).split())
            if tokens:
                out.append(tokens)
    return out


def _word_set(doc: dict, key: str, path: Path) -> frozenset[str]:
    """Every word of a settings list, in every language."""
    return frozenset(w for tokens in _token_lists(doc, key, path) for w in tokens)


class LexiconBuilder:
    """Collects entries from data files, then builds the indexes."""

    def __init__(self) -> None:
        self.lex = Lexicon()
        self.seen: set[tuple] = set()

    def add_phrase(self, phrase: Phrase) -> None:
        if not phrase.tokens:
            return
        key = (phrase.intent, phrase.tokens, phrase.switch_to)
        if key in self.seen:
            return  # the same words listed in two languages count once
        self.seen.add(key)
        if _is_cjk(phrase.text):
            self.lex.cjk.append(phrase)
        self.lex.by_first.setdefault(phrase.tokens[0], []).append(phrase)
        self.lex.vocab.update(phrase.tokens)

    def add_keyword(self, phrase: Phrase) -> None:
        key = " ".join(phrase.tokens)
        if key and key not in self.lex.keywords:
            self.lex.keywords[key] = phrase
            self.lex.vocab.update(phrase.tokens)

    def load_intent(self, doc: dict, path: Path) -> None:
        intent = doc.get("intent")
        if not isinstance(intent, str) or not intent:
            raise DataError(path, "missing `intent: name`", 1)
        if intent not in self.lex.intents:
            self.lex.intents.append(intent)
        negatable = bool(doc.get("negatable", False))
        if doc.get("whole_message"):
            self.lex.whole_only.add(intent)
        for key, table in (("outranks", self.lex.outranks),
                           ("outranks_weak", self.lex.outranks_weak)):
            names = doc.get(key) or []
            if not isinstance(names, list):
                raise DataError(path, f"`{key}` must be a list of intents", line_of(path, key))
            table[intent] = frozenset(map(str, names))
        for lang, items in _by_language(doc, "exclude", path).items():
            for text, _w in _items(items, path, f"exclude.{lang}"):
                self.add_phrase(Phrase("!" + intent, tuple(normalise(text).split()), 0.0,
                                       str(lang), text, False))
        self.load_combos(doc, path, intent, negatable)
        for section, weight_scale in (("phrases", 1.0), ("cues", 0.5)):
            for lang, items in _by_language(doc, section, path).items():
                for text, weight in _items(items, path, f"{section}.{lang}"):
                    self.add_phrase(
                        Phrase(intent, tuple(normalise(text).split()), weight * weight_scale,
                               str(lang), text, negatable)
                    )
        for lang, items in _by_language(doc, "keywords", path).items():
            for text, weight in _items(items, path, f"keywords.{lang}"):
                self.add_keyword(
                    Phrase(intent, tuple(normalise(text).split()), weight, str(lang), text, False)
                )

    def load_combos(self, doc: dict, path: Path, intent: str, negatable: bool) -> None:
        """`combos: [{words: [[took, keeps], [passport, papers]], window: 4, weight: 1}]`."""
        combos = doc.get("combos") or []
        if not isinstance(combos, list):
            raise DataError(path, "`combos` must be a list", line_of(path, "combos"))
        for n, combo in enumerate(combos, 1):
            groups = combo.get("words") if isinstance(combo, dict) else None
            if not isinstance(groups, list) or len(groups) < 2 or not all(
                isinstance(g, list) and g for g in groups
            ):
                raise DataError(path, f"combo {n}: `words` must be two or more word lists",
                                line_of(path, "words:"))
            sets = []
            for group in groups:
                # single words only, matched exactly (a combination is loose already); a word
                # ending in "*" is a stem: "golpe*" matches golpea, golpean, golpeando
                words = set()
                for item in group:
                    text = str(item)
                    stem = text.endswith("*")
                    word = normalise(text.rstrip("*"))
                    if word and " " not in word:
                        words.add(word + "*" if stem else word)
                sets.append(frozenset(words))
            label = " + ".join(str(g[0]) for g in groups)
            self.lex.combos.append(Combo(intent, tuple(sets), int(combo.get("window", 4)),
                                         float(combo.get("weight", 1.0)), negatable, label))

    def load_languages(self, doc: dict, path: Path) -> None:
        """`names: {target: {written_in: [names]}}` plus `templates: {lang: ["in {name}"]}`."""
        names = doc.get("names") or {}
        templates = doc.get("templates") or {}
        if not isinstance(names, dict) or not isinstance(templates, dict):
            raise DataError(path, "`names` and `templates` must be mappings", 1)
        if "language" not in self.lex.intents:
            self.lex.intents.append("language")
        for target, by_lang in names.items():
            if not isinstance(by_lang, dict):
                raise DataError(path, f"names.{target} must map languages to lists",
                                line_of(path, f"{target}:"))
            for lang, items in by_lang.items():
                for name, weight in _items(items, path, f"names.{target}.{lang}"):
                    tokens = tuple(normalise(name).split())
                    self.add_keyword(Phrase("language", tokens, weight, str(lang), name, False,
                                            str(target)))
                    for tlang, patterns in templates.items():
                        for pattern, pweight in _items(patterns, path, f"templates.{tlang}"):
                            text = pattern.replace("{name}", name)
                            self.add_phrase(Phrase("language", tuple(normalise(text).split()),
                                                   pweight, str(lang), text, False, str(target)))

    def load_settings(self, doc: dict, path: Path) -> None:
        lex = self.lex
        negs = lex.negations | _word_set(doc, "negations", path)
        first = lex.first_person | _word_set(doc, "first_person", path)
        rep = lex.reporting | _word_set(doc, "reporting_verbs", path)
        lex.negations, lex.first_person, lex.reporting = negs, first, rep
        lex.negation_fillers |= _word_set(doc, "negation_fillers", path)
        lex.negated_stops |= _word_set(doc, "negated_stops", path)
        lex.now = lex.now | _word_set(doc, "now", path)
        jokes = {w for w in _word_set(doc, "joking", path) if len(w) >= 3}
        lex.joking = tuple(sorted(set(lex.joking) | jokes))
        for tokens in _token_lists(doc, "others", path):
            lex.others[" ".join(tokens)] = tokens
            lex.vocab.update(tokens)
        lex.not_now = lex.not_now + tuple(_token_lists(doc, "not_now", path))
        polite = _token_lists(doc, "politeness", path)
        for tokens in polite:
            lex.vocab.update(tokens)
        # longest first, then alphabetical: the same order in every process
        every = set(lex.politeness) | set(polite)
        lex.politeness = tuple(sorted(every, key=lambda t: (-len(t), t)))
        # words the settings name are real words: never "correct" them into something else
        lex.vocab.update(rep, first, negs)
        lex.protected.update(_word_set(doc, "known_words", path))

    def build(self) -> Lexicon:
        lex = self.lex
        # index by the first two words: most messages share "i", "my", "the" with thousands of
        # phrases, and the pair narrows the candidates to a handful
        for phrases in lex.by_first.values():
            for phrase in phrases:
                if len(phrase.tokens) == 1:
                    lex.singles.setdefault(phrase.tokens[0], []).append(phrase)
                else:
                    lex.by_pair.setdefault(phrase.tokens[:2], []).append(phrase)
        for word in lex.vocab:
            k = max_edits(word)
            if k == 0 or _is_cjk(word):
                continue
            for key in _deletes(word, k):
                lex.deletes.setdefault(key, set()).add(word)
        return lex


def load_lexicon(directory: Path) -> Lexicon:
    """Read every data file of `directory`; raise DataError naming file and line on bad data."""
    if not directory.is_dir():
        raise DataError(directory, "intents directory not found")
    builder = LexiconBuilder()
    for path in data_files(directory):
        doc = load_file(path)
        if not isinstance(doc, dict):
            raise DataError(path, "top level must be a mapping", 1)
        if "version" not in doc:
            raise DataError(path, "missing `version` key", 1)
        kind = doc.get("kind", "intent")
        if kind == "settings":
            builder.load_settings(doc, path)
        elif kind == "languages":
            builder.load_languages(doc, path)
        elif kind == "intent":
            builder.load_intent(doc, path)
        else:
            raise DataError(path, f"unknown kind {kind!r}", line_of(path, "kind"))
    return builder.build()


def swap_or_double(token: str, word: str) -> bool:
    """Whether `token` is `word` with two letters swapped or one letter typed twice."""
    if sorted(token) == sorted(word):
        return True
    return len(token) == len(word) + 1 and any(
        token[i] == token[i + 1] and token[:i] + token[i + 1 :] == word
        for i in range(len(token) - 1)
    )


# Longer than any vocabulary word plus two edits: not a typo, and its deletes would cost seconds.
MAX_TYPO_LENGTH = 24


def correct(lex: Lexicon, token: str) -> str:
    """The vocabulary word `token` is a typo of (rapidfuzz Damerau-Levenshtein on indexed keys)."""
    if token in lex.vocab or token in lex.protected or not 3 < len(token) <= MAX_TYPO_LENGTH:
        return token
    if not token.isalpha():
        return token
    candidates: set[str] = set()
    for key in _deletes(token, 1 if len(token) <= 8 else 2):
        hit = lex.deletes.get(key)
        if hit:
            candidates |= hit
    if not candidates:
        return token
    scored = process.extract(
        token, candidates, scorer=DamerauLevenshtein.distance, processor=None,
        score_cutoff=2, limit=None,
    )
    best: tuple[int, bool, bool, int, int, str] | None = None
    for word, dist, _ in scored:
        if dist > max_edits(word) or (word[0] != token[0] and dist > 1):
            continue
        if len(word) <= 4 and not swap_or_double(token, word):
            continue  # four-letter words: only swapped or doubled letters ("hlep", "helpp")
        # equally close: prefer a word of a critical intent (a missed danger costs most),
        # then the word more phrases use ("doate" -> "donate", not Haitian "dokte")
        rank = lex.word_rank.get(word, 99)
        key = (dist, word[0] != token[0], rank > 1, -lex.word_count.get(word, 0), -len(word), word)
        if best is None or key < best:
            best = key
    return token if best is None else best[5]
