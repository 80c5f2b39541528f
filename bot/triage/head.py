"""The trained head over sentence vectors, its training and its file.

Two parts, averaged: a few small neural networks (one hidden layer, different seeds) and a
nearest-neighbour vote among the training examples' own vectors. On writers held out of
training the mix beat either part alone (docs/triage.md). Training is full-batch gradient
descent (Adam) in numpy from fixed seeds, so the same data and settings give the same head.
The file (`data/model/head.npz`, the example vectors stored as 8-bit integers, plus the readable
`head.json`) is committed; `trained_on` says which data it was trained on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MODEL_DIR = Path(__file__).resolve().parents[2] / "data" / "model"
Layers = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Settings:
    """How the head is trained and mixed (part of its fingerprint); chosen on held-out writers."""

    hidden: int = 256  # units in each network's hidden layer
    members: int = 3  # networks averaged, each from its own seed
    l2: float = 1e-4
    steps: int = 400
    learning_rate: float = 0.005
    class_weight_power: float = 0.75  # weight of a class is (1 / its count) ** power
    seed: int = 7
    neighbours: int = 10  # examples that vote
    temperature: float = 0.02  # how much a closer neighbour's vote counts over a farther one
    neighbour_weight: float = 0.5  # share of the vote in the mix

    def as_dict(self) -> dict:
        """The settings as a plain dict (for the fingerprint and `head.json`)."""
        return dict(self.__dict__)


@dataclass
class Head:
    """Maps sentence vectors to probabilities over `intents`."""

    intents: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    members: list[Layers]
    memory: np.ndarray  # (n, dim) unit vectors of the training examples
    memory_labels: np.ndarray  # (n,) their intents, as indexes
    settings: Settings = field(default_factory=Settings)
    meta: dict = field(default_factory=dict)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(n, len(intents)) probabilities for (n, dim) vectors."""
        x = (vectors - self.mean) / self.scale
        nets = np.mean([_forward(layers, x)[-1] for layers in self.members], axis=0)
        share = self.settings.neighbour_weight
        if not share or not len(self.memory):
            return nets
        return (1 - share) * nets + share * self.vote(vectors)

    def vote(self, vectors: np.ndarray) -> np.ndarray:
        """The nearest training examples' intents, weighted by closeness."""
        k = min(self.settings.neighbours, len(self.memory))
        similarity = vectors @ self.memory.T
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        close = np.take_along_axis(similarity, nearest, axis=1)
        weight = np.exp((close - close.max(axis=1, keepdims=True)) / self.settings.temperature)
        out = np.zeros((len(vectors), len(self.intents)), dtype=np.float32)
        rows = np.repeat(np.arange(len(vectors)), k)
        np.add.at(out, (rows, self.memory_labels[nearest].ravel()), weight.ravel())
        return out / out.sum(axis=1, keepdims=True)

    def save(self, directory: Path = MODEL_DIR) -> None:
        """Write `head.npz` (numbers) and `head.json` (what it is and how it was made)."""
        directory.mkdir(parents=True, exist_ok=True)
        scale = np.abs(self.memory).max(axis=1, keepdims=True) / 127 + 1e-12
        arrays = {
            "mean": self.mean,
            "scale": self.scale,
            "memory": np.round(self.memory / scale).astype(np.int8),
            "memory_scale": scale.astype(np.float32),
            "memory_labels": self.memory_labels.astype(np.int16),
        }
        for m, layers in enumerate(self.members):
            for i, (w, b) in enumerate(layers):
                arrays[f"w{m}_{i}"], arrays[f"b{m}_{i}"] = w, b
        np.savez_compressed(directory / "head.npz", **arrays)
        meta = {"intents": list(self.intents), "settings": self.settings.as_dict()} | self.meta
        text = json.dumps(meta, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        (directory / "head.json").write_text(text, encoding="utf-8")


def load_head(directory: Path = MODEL_DIR) -> Head:
    """Read a saved head; OSError, KeyError or ValueError when it is missing or damaged."""
    meta = json.loads((directory / "head.json").read_text(encoding="utf-8"))
    settings = Settings(**meta["settings"])
    with np.load(directory / "head.npz") as saved:
        members = [
            [(saved[f"w{m}_{i}"], saved[f"b{m}_{i}"]) for i in range(2)]
            for m in range(settings.members)
        ]
        memory = saved["memory"].astype(np.float32) * saved["memory_scale"]
        head = Head(
            tuple(meta["intents"]),
            saved["mean"],
            saved["scale"],
            members,
            memory,
            saved["memory_labels"].astype(np.intp),
            settings,
            meta,
        )
    if members[0][-1][0].shape[1] != len(head.intents):
        raise ValueError(f"{directory}: head.npz does not match head.json")
    return head


def fingerprint(files: list[Path], settings: Settings, encoder_name: str) -> str:
    """A hash of everything training reads: the data files, the settings, the encoder."""
    digest = hashlib.sha256()
    digest.update(json.dumps([settings.as_dict(), encoder_name], sort_keys=True).encode())
    for path in sorted(files):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _forward(layers: Layers, x: np.ndarray) -> list[np.ndarray]:
    """Activations of every layer, the last one softmax probabilities."""
    outs = [x]
    for i, (w, b) in enumerate(layers):
        z = outs[-1] @ w + b
        outs.append(_softmax(z) if i == len(layers) - 1 else np.maximum(z, 0.0))
    return outs


def _fit_network(
    x: np.ndarray, target: np.ndarray, weight: np.ndarray, settings: Settings, seed: int
) -> Layers:
    rng = np.random.default_rng(seed)
    n, dim = x.shape
    sizes = [dim, settings.hidden, target.shape[1]]
    layers = [
        (rng.normal(0, np.sqrt(2.0 / a), (a, b)).astype(np.float32), np.zeros(b, np.float32))
        for a, b in zip(sizes[:-1], sizes[1:], strict=False)
    ]
    params = [p for layer in layers for p in layer]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    beta1, beta2 = 0.9, 0.999
    for step in range(1, settings.steps + 1):
        outs = _forward(layers, x)
        delta = (outs[-1] - target) * weight[:, None] / n
        grads: list[np.ndarray] = []
        for i in range(len(layers) - 1, -1, -1):
            w, _ = layers[i]
            grads[:0] = [outs[i].T @ delta + settings.l2 * w, delta.sum(axis=0)]
            if i:
                delta = (delta @ w.T) * (outs[i] > 0)
        lr = settings.learning_rate * np.sqrt(1 - beta2**step) / (1 - beta1**step)
        for p, g, (m, v) in zip(params, grads, moments, strict=True):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            p -= (lr * m / (np.sqrt(v) + 1e-8)).astype(np.float32)
    return layers


def fit(
    vectors: np.ndarray, labels: np.ndarray, intents: tuple[str, ...], settings: Settings
) -> Head:
    """Train a head on (n, dim) unit `vectors` and integer `labels` indexing `intents`."""
    mean = vectors.mean(axis=0)
    scale = vectors.std(axis=0) + 1e-6
    x = ((vectors - mean) / scale).astype(np.float32)
    k, n = len(intents), len(labels)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    power = settings.class_weight_power
    class_weight = np.where(counts > 0, (1.0 / np.maximum(counts, 1)) ** power, 0.0)
    weight = class_weight[labels]
    weight = (weight * n / weight.sum()).astype(np.float32)
    target = np.zeros((n, k), dtype=np.float32)
    target[np.arange(n), labels] = 1.0
    members = [
        _fit_network(x, target, weight, settings, settings.seed + m)
        for m in range(settings.members)
    ]
    keep = len(labels) if settings.neighbour_weight else 0  # the vote needs the vectors
    return Head(
        intents,
        mean.astype(np.float32),
        scale.astype(np.float32),
        members,
        vectors[:keep].astype(np.float32),
        labels[:keep].astype(np.intp),
        settings,
    )
