"""Learned backstop: naive Bayes over character n-grams and words, trained at load time.

The examples are data, not code: `intents/examples/*.jsonl`, one `{"text", "intent"}` object a
line (labelled help-line messages, and everyday texts labelled `unknown`). The classifier asks
the model only when its phrases found nothing decisive (see `bot/classify.py`).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from operator import add
from pathlib import Path

from bot.datafiles import DataError
from bot.normalise import normalise

EXAMPLES = "examples"
ALPHA = 0.1  # additive smoothing of feature counts
TEMPERATURE = 0.5  # log-likelihoods are scaled by this per sqrt(feature): NB is overconfident
PRIOR_WEIGHT = 0.0  # 0: every intent equally likely before the text is read
GRAMS = (3, 4, 5)  # character n-gram sizes ("kni", "knif", " knif")
MIN_DOCS = 2  # a feature seen in fewer examples is dropped: noise, and time at every message
MAX_CLASSES = 12  # nor one seen in more intents than this: it tells little and costs most
MAX_WORD = 24  # longer "words" (links, codes) give no character n-grams


_GRAMS: dict[str, tuple[str, ...]] = {}


def _grams(word: str) -> tuple[str, ...]:
    """The word itself and its character 3-5-grams, padded with a space at each end (cached)."""
    found = _GRAMS.get(word)
    if found is None:
        found = ("w" + word,)
        if len(word) <= MAX_WORD:
            padded = " " + word + " "
            size = len(padded)
            found += tuple({padded[i : i + n] for n in GRAMS for i in range(size - n + 1)})
        if len(_GRAMS) < 100_000:
            _GRAMS[word] = found
    return found


def features(norm: str) -> list[str]:
    """Features of a normalised text: each distinct word with its character 3-5-grams, and the
    word pairs. A gram shared by two different words counts twice, at training and reading."""
    words = norm.split()
    out = list({"b" + a + " " + b for a, b in zip(words, words[1:], strict=False)})
    for word in dict.fromkeys(words):
        out += _grams(word)
    return out


class Model:
    """Multinomial naive Bayes on binary features, with sparse per-class log-likelihood gains."""

    def __init__(self, examples: Iterable[tuple[str, str]], alpha: float = ALPHA) -> None:
        examples = list(examples)
        per_class: dict[str, Counter[str]] = {}
        for text, intent in examples:
            per_class.setdefault(intent, Counter()).update(features(normalise(text)))
        labels = sorted(per_class)
        docs = [0] * len(labels)
        for _, intent in examples:
            docs[labels.index(intent)] += 1
        counts: dict[str, dict[int, int]] = {}
        for c, intent in enumerate(labels):
            for f, n in per_class[intent].items():
                counts.setdefault(f, {})[c] = n
        counts = {f: row for f, row in counts.items()
                  if sum(row.values()) >= MIN_DOCS and len(row) <= MAX_CLASSES}
        self.labels: tuple[str, ...] = tuple(labels)
        k = len(labels)
        totals = [sum(per_class[intent].values()) for intent in labels]
        vocab = len(counts)
        # log P(f|c) = log(alpha / denom_c) + log((n_fc + alpha) / alpha): the first term is
        # per class for every known feature, the second is non-zero only where f was seen in c
        self.unseen = [math.log(alpha / (totals[c] + alpha * vocab)) for c in range(k)]
        self._words: dict[str, tuple[int, list[float]]] = {}
        self.temperature = TEMPERATURE
        self.prior_weight = PRIOR_WEIGHT
        self.prior = [math.log(d / sum(docs)) for d in docs] if docs else []
        self.gains: dict[str, tuple[tuple[int, float], ...]] = {
            f: tuple((c, math.log((n + alpha) / alpha)) for c, n in row.items())
            for f, row in counts.items()
        }

    def _word(self, word: str) -> tuple[int, list[float]]:
        """How many of a word's features the model knows, and their summed gains (cached)."""
        found = self._words.get(word)
        if found is None:
            vector = [0.0] * len(self.labels)
            n = 0
            for f in _grams(word):
                row = self.gains.get(f)
                if row is not None:
                    n += 1
                    for c, g in row:
                        vector[c] += g
            found = (n, vector)
            if len(self._words) < 100_000:
                self._words[word] = found
        return found

    def probabilities(self, norm: str) -> dict[str, float]:
        """Posterior of each intent for a normalised text (tempered: NB is overconfident)."""
        k = len(self.labels)
        if not k:
            return {}
        known = 0
        scores = [0.0] * k
        words = norm.split()
        for word in dict.fromkeys(words):
            n, vector = self._word(word)
            if n:
                known += n
                scores = list(map(add, scores, vector))
        gains = self.gains
        for a, b in dict.fromkeys(zip(words, words[1:], strict=False)):
            row = gains.get("b" + a + " " + b)
            if row is not None:
                known += 1
                for c, g in row:
                    scores[c] += g
        if not known:
            return {"unknown": 1.0}
        scale = self.temperature / math.sqrt(known)
        prior = self.prior_weight
        logits = [
            (scores[c] + known * self.unseen[c]) * scale + prior * self.prior[c]
            for c in range(k)
        ]
        top = max(logits)
        exps = [math.exp(v - top) for v in logits]
        total = sum(exps)
        return {self.labels[c]: exps[c] / total for c in range(k)}

    def predict(self, norm: str) -> tuple[str, float]:
        """The most probable intent of a normalised text and its probability."""
        probs = self.probabilities(norm)
        if not probs:
            return "unknown", 1.0
        intent = max(probs, key=probs.__getitem__)
        return intent, probs[intent]


def load_examples(directory: Path, intents: Iterable[str]) -> list[tuple[str, str]]:
    """`(text, intent)` pairs of `directory/examples/*.jsonl`; DataError names file and line."""
    folder = Path(directory) / EXAMPLES
    if not folder.is_dir():
        return []
    allowed = set(intents)
    out: list[tuple[str, str]] = []
    for path in sorted(folder.glob("*.jsonl")):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(path, f"cannot read: {exc}") from exc
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(path, f"invalid JSON: {exc.msg}", number) from exc
            if not isinstance(row, dict):
                raise DataError(path, "an example must be a JSON object", number)
            text, intent = row.get("text"), row.get("intent")
            if not isinstance(text, str) or not isinstance(intent, str):
                raise DataError(path, "an example needs string `text` and `intent`", number)
            if intent not in allowed:
                raise DataError(path, f"unknown intent {intent!r}", number)
            out.append((text, intent))
    return out


def load_model(directory: Path, intents: Iterable[str]) -> Model | None:
    """The model trained on `directory/examples`, or None when there are no examples."""
    examples = load_examples(directory, intents)
    return Model(examples) if examples else None
