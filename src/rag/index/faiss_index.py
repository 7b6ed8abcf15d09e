"""The ``faiss`` passage index: a FAISS inner-product index and a bm25s index, inside a build.

Each build writes both from scratch into its own folder (so upserts and deletes only gather
the points until ``close`` writes them), and a loaded build answers from memory: one FAISS
search and one BM25 pass over every passage, as before the index had an interface.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from rag.index.passage_index import PassagePoint, Scored

__all__ = [
    "FAISS_FILE",
    "FLAT_LIMIT",
    "HNSW_EF_SEARCH",
    "FaissPassageIndex",
    "vector_index",
]

# Up to this many passages a flat (exact) inner-product index answers in a few ms. Beyond it
# a flat scan reads every vector for every question (100k x 512 floats: ~23 ms here), so the
# index becomes HNSW: approximate, but under a millisecond at 100k passages.
FLAT_LIMIT = 20_000
HNSW_NEIGHBOURS = 32
HNSW_EF_SEARCH = 128
FAISS_FILE = "default__vector_store.json"  # the name llama-index's FaissVectorStore reads


def vector_index(dim: int, count: int) -> Any:
    """A FAISS inner-product index suited to ``count`` normalised vectors."""
    import faiss

    if count <= FLAT_LIMIT:
        return faiss.IndexFlatIP(dim)
    index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 80
    index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


class FaissPassageIndex:
    """FAISS rows and BM25 documents in the same order; ``ids[row]`` is a row's point id."""

    def __init__(
        self, faiss_index: Any, bm25: Any, ids: Sequence[int], *, build_dir: Path | None = None
    ) -> None:
        self.faiss = faiss_index
        self.bm25 = bm25
        self.ids = np.asarray(ids, dtype=np.int64)
        self._rows = {int(p): row for row, p in enumerate(self.ids)}
        self._build_dir = build_dir
        self._pending: dict[int, PassagePoint] = {}
        self._dim = faiss_index.d if faiss_index is not None else 0
        self._scores = lru_cache(maxsize=4)(self._all_scores)

    @classmethod
    def create(cls, build_dir: Path, dim: int) -> FaissPassageIndex:
        """An empty index that ``close`` writes into ``build_dir``."""
        index = cls(None, None, [], build_dir=build_dir)
        index._dim = dim
        return index

    @classmethod
    def load(cls, build_dir: Path, ids: Sequence[int]) -> FaissPassageIndex:
        """The index a build wrote; ``ids`` are its passages' point ids in row order."""
        import bm25s
        import faiss

        faiss_index = faiss.read_index(str(build_dir / FAISS_FILE))
        if hasattr(faiss_index, "hnsw"):
            faiss_index.hnsw.efSearch = HNSW_EF_SEARCH  # not persisted by faiss
        return cls(faiss_index, bm25s.BM25.load(str(build_dir / "bm25")), ids)

    # -- writing -------------------------------------------------------------------------------

    def upsert(self, points: Sequence[PassagePoint]) -> None:
        for point in points:
            self._pending[point.id] = point

    def delete(self, ids: Iterable[int]) -> None:
        for point in ids:
            self._pending.pop(point, None)

    def close(self) -> None:
        if self._build_dir is None:
            return
        import bm25s
        import faiss

        points = list(self._pending.values())
        faiss_index = vector_index(self._dim, len(points))
        if points:
            faiss_index.add(np.vstack([p.vector for p in points]).astype(np.float32))
        faiss.write_index(faiss_index, str(self._build_dir / FAISS_FILE))
        bm25 = bm25s.BM25()
        bm25.index([list(p.terms) or [""] for p in points], show_progress=False)
        bm25.save(str(self._build_dir / "bm25"))
        self.__init__(faiss_index, bm25, [p.id for p in points])  # type: ignore[misc]

    # -- reading -------------------------------------------------------------------------------

    def count(self) -> int:
        return len(self._pending) if self._build_dir is not None else int(self.faiss.ntotal)

    def dense_search(self, vector: np.ndarray, limit: int) -> Scored:
        sims, rows = self.faiss.search(vector.reshape(1, -1).astype(np.float32), limit)
        return [
            (int(self.ids[r]), float(s)) for r, s in zip(rows[0], sims[0], strict=True) if r >= 0
        ]

    def _all_scores(self, terms: tuple[str, ...]) -> np.ndarray:
        # Cached: retrieval asks for a question's top matches, then for a few more scores.
        if not terms or not len(self.ids):
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(list(terms)), dtype=np.float32)

    def sparse_search(self, terms: Sequence[str], limit: int) -> Scored:
        scores = self._scores(tuple(terms))
        total = len(scores)
        if total == 0:
            return []
        top = (
            np.argpartition(-scores, min(limit, total - 1))[:limit]
            if total > limit
            else np.arange(total)
        )
        return [
            (int(self.ids[r]), float(scores[r]))
            for r in top[np.argsort(-scores[top])]
            if scores[r] > 0
        ]

    def sparse_scores(self, terms: Sequence[str], ids: Sequence[int]) -> list[float]:
        scores = self._scores(tuple(terms))
        return [float(scores[self._rows[p]]) if len(scores) else 0.0 for p in ids]

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        return np.vstack([self.faiss.reconstruct(self._rows[p]) for p in ids])

    def document_frequency(self, term: str) -> int:
        column = self.bm25.vocab_dict.get(term)
        if column is None:
            return 0
        indptr = self.bm25.scores["indptr"]
        return int(indptr[column + 1] - indptr[column])
