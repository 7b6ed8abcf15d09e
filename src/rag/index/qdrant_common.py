"""What both Qdrant stores share: the data model, and the passage index operations on it.

Every passage is a point with a named dense vector (``dense``, inner product on normalised
vectors) and a named sparse vector (``terms``, BM25's saturated term frequencies, with the
IDF modifier so the engine weighs each term by its rarity). ``qdrant-edge`` (the engine
in-process, ``rag.index.qdrant_index``) and ``qdrant`` (a server or cluster through
``qdrant-client``, ``rag.index.qdrant_server``) differ only in how they reach the engine: each
implements the few primitives below, and this class turns them into a ``PassageIndex``.

The answer sentences' vectors are a second shard or collection of the same kind with
``sparse = False``: dense vectors only, kept on disk, without an HNSW graph (they are only
ever read by id, ``rag.index.sentence_vectors``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from rag.errors import ConfigError
from rag.index.passage_index import PassagePoint, Scored, query_weights, term_weights

__all__ = ["BATCH", "DENSE", "SENTENCES", "SPARSE", "QdrantPassages", "require", "store_name"]

DENSE = "dense"
SPARSE = "terms"
BATCH = 512
SENTENCES = "-sentences"  # the sentences' shard or collection: the passages' name + this

Weights = dict[int, float]  # a sparse vector: term id -> value


def require(module: str, store: str, package: str, hint: str) -> Any:
    """The client ``module`` a store needs, or a ConfigError saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(
            f"RAG_STORE={store} needs the {package} package: run `{hint}` (or set RAG_STORE=faiss)"
        ) from None


def store_name(embedder: str, dim: int) -> str:
    """The shard's folder name, or the server collection's: one per embedder and dimension."""
    return f"{embedder}-{dim}"


class QdrantPassages:
    """A ``PassageIndex`` over Qdrant points; subclasses supply the engine's primitives."""

    dim: int
    sparse: bool = True  # False: dense vectors only, read by id (the sentences)
    average_length: float  # of the passages' terms, for their BM25 weights
    _frequencies: dict[str, int]

    # -- the engine's primitives ---------------------------------------------------------------

    def _put(self, points: list[tuple[int, list[float], Weights]]) -> None:
        """Upsert (id, dense vector, sparse weights) points."""
        raise NotImplementedError

    def _put_terms(self, points: list[tuple[int, Weights]]) -> None:
        """Replace only the sparse vectors of these points."""
        raise NotImplementedError

    def _remove(self, ids: list[int]) -> None:
        raise NotImplementedError

    def _nearest(
        self, query: list[float] | Weights, limit: int, ids: Sequence[int] | None
    ) -> Scored:
        """The best ``limit`` points for a dense vector (a list) or sparse weights (a dict),
        among ``ids`` if given."""
        raise NotImplementedError

    def _dense_vectors(self, ids: list[int]) -> dict[int, Sequence[float]]:
        """The stored dense vectors of those of ``ids`` that exist."""
        raise NotImplementedError

    def recorded_length(self) -> float | None:
        """The average length the stored weights were computed with (None if unknown)."""
        raise NotImplementedError

    def record_length(self) -> None:
        """Remember ``average_length`` as the one the stored weights now use."""
        raise NotImplementedError

    def ids(self) -> set[int]:
        """Every point id stored."""
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # -- writing -------------------------------------------------------------------------------

    def upsert(self, points: Sequence[PassagePoint]) -> None:
        for i in range(0, len(points), BATCH):
            self._put(
                [
                    (
                        p.id,
                        np.asarray(p.vector, dtype=np.float32).tolist(),
                        term_weights(p.terms, self.average_length),
                    )
                    for p in points[i : i + BATCH]
                ]
            )

    def upsert_vectors(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Upsert dense-only points (the sentences): ``vectors[i]`` under ``ids[i]``."""
        for i in range(0, len(ids), BATCH):
            batch = np.asarray(vectors[i : i + BATCH], dtype=np.float32).tolist()
            self._put([(int(p), v, {}) for p, v in zip(ids[i : i + BATCH], batch, strict=True)])

    def update_terms(self, points: Sequence[PassagePoint]) -> None:
        """Rewrite only the sparse vectors (their weights depend on the average length)."""
        for i in range(0, len(points), BATCH):
            self._put_terms(
                [(p.id, term_weights(p.terms, self.average_length)) for p in points[i : i + BATCH]]
            )

    def delete(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), BATCH):
            self._remove(ids[i : i + BATCH])

    # -- reading -------------------------------------------------------------------------------

    def dense_search(self, vector: np.ndarray, limit: int) -> Scored:
        return self._nearest(np.asarray(vector, dtype=np.float32).tolist(), limit, None)

    def sparse_search(self, terms: Sequence[str], limit: int) -> Scored:
        if not terms:
            return []
        return [(p, s) for p, s in self._nearest(query_weights(terms), limit, None) if s > 0]

    def sparse_scores(self, terms: Sequence[str], ids: Sequence[int]) -> list[float]:
        if not terms or not ids:
            return [0.0] * len(ids)
        scores = dict(self._nearest(query_weights(terms), len(ids), ids))
        return [scores.get(p, 0.0) for p in ids]

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        by_id = self._dense_vectors(list(ids))
        # A point deleted under a loaded build (a newer one is current): no similarity.
        missing = [0.0] * self.dim
        return np.asarray([by_id.get(p, missing) for p in ids], dtype=np.float32)

    def document_frequency(self, term: str) -> int:
        return self._frequencies.get(term, 0)
