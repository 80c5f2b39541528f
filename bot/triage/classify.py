"""Classifier: keywords and language names by rule, everything else by encoder and head.

The decision, in order:
1. an empty message (no letter, digit or emoji) is `unknown`;
2. a message that is one keyword or a language name alone gets that intent (keywords.py);
   an intent of the contract that the head was not trained on is found this way only;
3. otherwise the head gives a probability per intent. If emergency + self_harm together reach
   `critical` (a threshold chosen on a validation split), the more likely of the two wins, as
   the contract's precedence puts them first. Else the most likely other intent wins, and when
   the critical probability is still in the doubt band (at least `doubt`), the message is
   queued at least `high` and its reply carries the emergency number (`doubt=True`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.triage.contract import Contract, contract_file, higher_priority, load_contract
from bot.triage.encoder import Encoder, load_encoder
from bot.triage.head import MODEL_DIR, Head, load_head
from bot.triage.keywords import INTENTS_DIR, Keywords
from bot.triage.languages import LanguageReader


@dataclass(frozen=True)
class Classification:
    """The outcome of classifying one message."""

    intent: str
    priority: str
    language: str
    confidence: float
    matched: str | None = None  # "keyword:help", "language:es" or "model"
    switch_to: str | None = None  # a language the person asked for
    doubt: bool = False  # not critical, but close: priority raised, emergency number given
    top: tuple[tuple[str, float], ...] = ()  # the likeliest intents, for the console

    def as_dict(self) -> dict:
        """A plain dict, ready for JSON."""
        out = asdict(self)
        out["top"] = [[intent, p] for intent, p in self.top]
        return out


class Classifier:
    """Binds an encoder, a trained head, the keyword rules and the contract."""

    def __init__(
        self,
        encoder: Encoder,
        head: Head,
        keywords: Keywords,
        terms: Contract,
        languages: LanguageReader,
    ) -> None:
        if problem := head_problem(tuple(head.intents), terms, keywords):
            raise ValueError(problem)
        self.encoder, self.head, self.keywords, self.contract = encoder, head, keywords, terms
        self.languages = languages
        thresholds = head.meta.get("thresholds", {})
        self.critical_at = float(thresholds.get("critical", 0.5))
        self.doubt_at = float(thresholds.get("doubt", 0.25))
        self._critical = np.array([i in terms.critical for i in head.intents])

    def classify(self, text: str, *, conversation_language: str | None = None) -> Classification:
        """Classify one message; `conversation_language` is the conversation's language so far."""
        return self.classify_many([text], [conversation_language])[0]

    def classify_many(
        self, texts: Sequence[str], conversation_languages: Sequence[str | None] | None = None
    ) -> list[Classification]:
        """Classify several messages, encoding the free texts in one batch."""
        langs = list(conversation_languages or [None] * len(texts))
        out: list[Classification | None] = [
            self._by_rule(t, c) for t, c in zip(texts, langs, strict=True)
        ]
        todo = [i for i, found in enumerate(out) if found is None]
        if todo:
            vectors = self.encoder.encode([texts[i] for i in todo])
            probs = self.head.probabilities(vectors)
            for i, vector, p in zip(todo, vectors, probs, strict=True):
                out[i] = self._decide(p, self.languages.read(texts[i], vector, langs[i]))
        return [c for c in out if c is not None]

    def _by_rule(self, text: str, conversation_language: str | None) -> Classification | None:
        """Empty messages and keywords; None when the encoder must read the message."""
        default = conversation_language or "en"
        if not any(ch.isalnum() or unicodedata.category(ch) == "So" for ch in text or ""):
            return Classification("unknown", self.contract.priority["unknown"], default, 1.0)
        keyword = self.keywords.find(text)
        if keyword is None:
            return None
        language = default if keyword.language == "en" else keyword.language
        kind = "language" if keyword.switch_to else "keyword"
        return Classification(
            keyword.intent,
            self.contract.priority[keyword.intent],
            language,
            1.0,
            f"{kind}:{keyword.word}",
            keyword.switch_to,
        )

    def _decide(self, p: np.ndarray, language: str) -> Classification:
        intents, terms = self.head.intents, self.contract
        critical = float(p[self._critical].sum())
        if critical >= self.critical_at:
            best = max((i for i in range(len(intents)) if self._critical[i]), key=lambda i: p[i])
            confidence = critical
        else:
            best = max(
                (i for i in range(len(intents)) if not self._critical[i]), key=lambda i: p[i]
            )
            confidence = float(p[best])
        intent = intents[best]
        doubt = intent not in terms.critical and critical >= self.doubt_at
        priority = terms.priority[intent]
        if doubt:
            priority = higher_priority(priority, terms.priorities[1])
        order = np.argsort(-p)[:3]
        top = tuple((intents[i], round(float(p[i]), 3)) for i in order)
        return Classification(
            intent, priority, language, round(confidence, 3), "model", None, doubt, top
        )


def head_problem(head_intents: tuple[str, ...], terms: Contract, keywords: Keywords) -> str | None:
    """Why a head cannot serve a contract, or None. The head's intents are the contract's, in its
    order; an intent the head does not know must have keywords (it is read by keyword only)."""
    if unknown := [i for i in head_intents if i not in terms.intents]:
        return f"the head was trained on intents the contract lacks ({', '.join(unknown)}): retrain"
    if list(head_intents) != sorted(head_intents, key=terms.intents.index):
        return "the head's intents are not in the contract's order: retrain"
    by_keyword = {k.intent for k in (*keywords.words.values(), *keywords.names.values())}
    if unread := [i for i in terms.intents if i not in head_intents and i not in by_keyword]:
        return (
            f"no way to recognise {', '.join(unread)}: give it keywords in keywords.yaml, "
            "or training examples and retrain"
        )
    return None


def load_classifier(
    intents_dir: Path | None = None, model_dir: Path | None = None, terms: Contract | None = None
) -> Classifier:
    """The classifier of an intents directory (default `intents/`) and its contract (`terms`,
    read from the directory when not given); raises when the encoder, a head or a data file
    cannot load, or the head cannot serve the contract."""
    model_dir = model_dir or MODEL_DIR
    intents_dir = Path(intents_dir or INTENTS_DIR)
    terms = terms or load_contract(contract_file(intents_dir))
    language_head = load_head(model_dir / "language")
    languages = LanguageReader(language_head, language_head.meta["scripts"])
    return Classifier(
        load_encoder(),
        load_head(model_dir),
        Keywords(intents_dir, terms.intents),
        terms,
        languages,
    )


@lru_cache(maxsize=2)
def _cached(intents_dir: str) -> Classifier:
    return load_classifier(Path(intents_dir))


def default_classifier() -> Classifier:
    """The classifier for `intents/` (or `$INTENTS_DIR`), loaded once per process."""
    from bot.config import Config

    return _cached(Config().INTENTS_DIR or str(INTENTS_DIR))
