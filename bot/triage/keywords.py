"""Rules where rules belong: whole-message keywords (typo-tolerant) and language names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from bot.datafiles import DataError, line_of, load_file
from bot.normalise import normalise
from bot.schemas import LANGUAGE_NAMES, keywords_file
from bot.triage.contract import INTENTS_DIR, contract_file, load_contract

_REPEATS = re.compile(r"(.)\1+")


@dataclass(frozen=True)
class Keyword:
    """What a keyword message means."""

    intent: str
    language: str  # the word's language; "en" words take the conversation's language
    word: str
    switch_to: str | None = None  # for a language name: the language asked for


def _squeeze(word: str) -> str:
    return _REPEATS.sub(r"\1", word)


def _close_enough(typed: str, word: str) -> bool:
    """One typo, of a kind that does not make another everyday word: a swapped pair ("hlep"),
    an extra letter ("infro"), a dropped letter in five typed letters or more ("cancl", not
    "star"), a wrong letter only in long words ("unsubscrive", not "cancer")."""
    if DamerauLevenshtein.distance(typed, word) != 1 or len(word) < 4:
        return False
    if len(typed) == len(word):
        diff = [i for i in range(len(word)) if typed[i] != word[i]]
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1
        return swapped or len(word) >= 7
    return len(typed) > len(word) or len(typed) >= 5


class Keywords:
    """Looks up a whole message among the keywords and the language names."""

    def __init__(
        self, directory: Path = INTENTS_DIR, intents: tuple[str, ...] | None = None
    ) -> None:
        # DataError (a ValueError) names file and line of a file that is malformed, has a key
        # twice or does not match its schema (bot/schemas.py). `intents`: the contract's, read
        # from the directory's contract when not given
        intents = intents or load_contract(contract_file(directory)).intents
        doc = load_file(directory / "keywords.yaml", keywords_file(intents))
        languages = load_file(directory / "language.yaml", LANGUAGE_NAMES)
        self.words: dict[str, Keyword] = {}
        for intent, by_language in doc["keywords"].items():
            for language, words in by_language.items():
                for word in words:
                    self._add(
                        normalise(word),
                        Keyword(intent, language, word),
                        directory / "keywords.yaml",
                    )
        self.courtesy = sorted(
            (normalise(c) for c in doc.get("courtesy", [])), key=len, reverse=True
        )
        self.names: dict[str, Keyword] = {}
        for target, written in languages["names"].items():
            for language, names in written.items():
                for name in names:
                    key = normalise(name)
                    if key in self.names and self.names[key].switch_to != target:
                        path = directory / "language.yaml"
                        raise DataError(
                            path,
                            f"language name {name!r} is listed for "
                            f"{self.names[key].switch_to} and {target}",
                            line_of(path, name, last=True),
                        )
                    self.names[key] = Keyword("language", language, name, target)
                    for template in languages.get("templates", {}).get(language, []):
                        phrase = normalise(template.replace("{name}", name))
                        self.names.setdefault(phrase, Keyword("language", language, name, target))
        self._tables = [
            (
                table,
                {_squeeze(w): k for w, k in table.items() if " " not in w},
                [w for w in table if len(w) >= min_letters and " " not in w],
            )
            for table, min_letters in ((self.words, 4), (self.names, 6))
        ]
        self._longest = max(len(w) for table in (self.words, self.names) for w in table)

    def _add(self, key: str, keyword: Keyword, path: Path) -> None:
        if key in self.words and self.words[key].intent != keyword.intent:
            raise DataError(
                path,
                f"keyword {keyword.word!r} is listed under two intents "
                f"({self.words[key].intent}, {keyword.intent})",
                line_of(path, keyword.word, last=True),
            )
        self.words.setdefault(key, keyword)

    def _core(self, norm: str) -> str:
        """The message without courtesy words at either end."""
        changed = True
        while changed and " " in norm:
            changed = False
            for word in self.courtesy:
                if norm.endswith(" " + word):
                    norm, changed = norm[: -len(word) - 1], True
                elif norm.startswith(word + " "):
                    norm, changed = norm[len(word) + 1 :], True
        return norm

    def find(self, text: str) -> Keyword | None:
        """The keyword or language name that `text` is, or None."""
        if len(text) > 2 * self._longest + 20:
            return None
        norm = normalise(text)
        if not norm or len(norm) > self._longest + 20:
            return None
        if norm in self.names:
            return self.names[norm]
        core = self._core(norm)
        for table, squeezed_table, fuzzy in self._tables:
            if core in table:
                return table[core]
            if " " in core or len(core) > self._longest + 1:
                continue
            squeezed = _squeeze(core)
            if squeezed in squeezed_table:
                return squeezed_table[squeezed]
            for word, _, _ in process.extract(
                squeezed, fuzzy, scorer=DamerauLevenshtein.distance, score_cutoff=1, limit=3
            ):
                if _close_enough(squeezed, word):
                    return table[word]
        return None
