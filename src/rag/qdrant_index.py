"""The ``qdrant-edge`` passage index: the Qdrant engine in-process (``qdrant-edge-py``).

One shard under ``index/qdrant/<embedder>-<dim>/`` holds every passage as a point with a
named dense vector (``dense``, inner product on normalised vectors) and a named sparse
vector (``terms``, BM25's saturated term frequencies, with the IDF modifier so the engine
weighs each term by its rarity). Builds share the shard: a rebuild upserts only the
passages it does not hold yet and deletes the ones no build needs once the new build is
current, so a killed build leaves the previous one whole (its points are never touched).

A shard can be open in one process only (its write-ahead log is locked), so within a
process the build and the loaded index share one open shard.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ConfigError, IndexBusyError
from rag.passage_index import PassagePoint, Scored, query_weights, term_weights

__all__ = [
    "INSTALL_HINT",
    "QdrantEdgePassageIndex",
    "close_all",
    "require_qdrant_edge",
    "shard_dir",
]

INSTALL_HINT = "pip install 'rag-footnotes[qdrant]'"
DENSE = "dense"
SPARSE = "terms"
BATCH = 512

_open: dict[Path, tuple[Any, int]] = {}  # shard folder -> (EdgeShard, users) in this process
_open_lock = threading.Lock()


def require_qdrant_edge() -> Any:
    """The ``qdrant_edge`` module, or a ConfigError saying how to install it."""
    try:
        import qdrant_edge
    except ImportError:
        raise ConfigError(
            f"RAG_STORE=qdrant-edge needs the qdrant-edge-py package: run `{INSTALL_HINT}`"
            " (or set RAG_STORE=faiss)"
        ) from None
    return qdrant_edge


def shard_dir(index_dir: Path, embedder: str, dim: int) -> Path:
    """Where the shard for this embedder lives (another embedder means another shard)."""
    return index_dir / "qdrant" / f"{embedder}-{dim}"


def _acquire(path: Path, dim: int) -> Any:
    q = require_qdrant_edge()
    path = path.resolve()
    with _open_lock:
        shard, users = _open.get(path, (None, 0))
        if shard is None:
            try:
                if (path / "edge_config.json").exists() or (path / "wal").exists():
                    shard = q.EdgeShard.load(str(path))
                else:
                    config = q.EdgeConfig(
                        vectors={DENSE: q.EdgeVectorParams(size=dim, distance=q.Distance.Dot)},
                        sparse_vectors={SPARSE: q.EdgeSparseVectorParams(modifier=q.Modifier.Idf)},
                    )
                    path.mkdir(parents=True, exist_ok=True)
                    shard = q.EdgeShard.create(str(path), config)
            except Exception as err:  # the engine raises plain Exceptions
                if "WouldBlock" in str(err):
                    raise IndexBusyError(
                        f"the Qdrant shard {path} is open in another process (the UI, or a"
                        " `rag index`): stop it and retry, or rebuild from the UI's Documents tab"
                    ) from None
                raise
        _open[path] = (shard, users + 1)
        return shard


def _release(path: Path) -> None:
    path = path.resolve()
    with _open_lock:
        shard, users = _open.get(path, (None, 0))
        if shard is None:
            return
        if users > 1:
            _open[path] = (shard, users - 1)
            return
        del _open[path]
        shard.flush()
        shard.close()


def close_all() -> None:
    """Flush and close every shard open in this process (loaded builds stop answering)."""
    with _open_lock:
        shards = [shard for shard, _ in _open.values()]
        _open.clear()
    for shard in shards:
        shard.flush()
        shard.close()


class QdrantEdgePassageIndex:
    """Passages as points of an embedded Qdrant shard."""

    def __init__(
        self,
        path: Path,
        dim: int,
        *,
        average_length: float = 1.0,
        frequencies: dict[str, int] | None = None,
    ) -> None:
        self._q = require_qdrant_edge()
        self.path = path
        self.dim = dim
        self.average_length = average_length  # of the passages' terms, for BM25 weights
        self._frequencies = frequencies or {}
        self._shard = _acquire(path, dim)
        self._closed = False

    # -- writing -------------------------------------------------------------------------------

    def _sparse(self, weights: dict[int, float]) -> Any:
        keys = sorted(weights)
        return self._q.SparseVector(keys, [weights[k] for k in keys])

    def upsert(self, points: Sequence[PassagePoint]) -> None:
        q = self._q
        for i in range(0, len(points), BATCH):
            batch = [
                q.Point(
                    p.id,
                    {
                        DENSE: np.asarray(p.vector, dtype=np.float32).tolist(),
                        SPARSE: self._sparse(term_weights(p.terms, self.average_length)),
                    },
                )
                for p in points[i : i + BATCH]
            ]
            self._shard.update(q.UpdateOperation.upsert_points(batch))

    def update_terms(self, points: Sequence[PassagePoint]) -> None:
        """Rewrite only the sparse vectors (their weights depend on the average length)."""
        q = self._q
        for i in range(0, len(points), BATCH):
            batch = [
                q.PointVectors(
                    p.id, {SPARSE: self._sparse(term_weights(p.terms, self.average_length))}
                )
                for p in points[i : i + BATCH]
            ]
            self._shard.update(q.UpdateOperation.update_vectors(batch))

    def delete(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), BATCH):
            self._shard.update(self._q.UpdateOperation.delete_points(ids[i : i + BATCH]))

    def ids(self) -> set[int]:
        """Every point id in the shard."""
        found: set[int] = set()
        offset = None
        while True:
            records, offset = self._shard.scroll(
                self._q.ScrollRequest(
                    offset=offset, limit=10_000, with_payload=False, with_vector=False
                )
            )
            found.update(int(r.id) for r in records)
            if offset is None:
                return found

    def flush(self) -> None:
        self._shard.flush()

    def optimize(self) -> None:
        """Merge segments and build the HNSW graph now (the embedded engine runs its
        optimizers only when asked), so the first questions do not scan every vector."""
        self._shard.optimize()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _release(self.path)

    # -- reading -------------------------------------------------------------------------------

    def count(self) -> int:
        return int(self._shard.count(self._q.CountRequest(exact=True)))

    def _query(self, query: Any, limit: int, ids: Sequence[int] | None = None) -> Scored:
        q = self._q
        where = q.Filter(must=[q.HasIdCondition(set(ids))]) if ids is not None else None
        found = self._shard.query(q.QueryRequest(limit=limit, query=query, filter=where))
        return [(int(p.id), float(p.score)) for p in found]

    def dense_search(self, vector: np.ndarray, limit: int) -> Scored:
        vector = np.asarray(vector, dtype=np.float32).tolist()
        return self._query(self._q.Query.Nearest(vector, using=DENSE), limit)

    def sparse_search(self, terms: Sequence[str], limit: int) -> Scored:
        if not terms:
            return []
        query = self._q.Query.Nearest(self._sparse(query_weights(terms)), using=SPARSE)
        return [(p, s) for p, s in self._query(query, limit) if s > 0]

    def sparse_scores(self, terms: Sequence[str], ids: Sequence[int]) -> list[float]:
        if not terms or not ids:
            return [0.0] * len(ids)
        query = self._q.Query.Nearest(self._sparse(query_weights(terms)), using=SPARSE)
        scores = dict(self._query(query, len(ids), ids))
        return [scores.get(p, 0.0) for p in ids]

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        records = self._shard.retrieve(list(ids), with_payload=False, with_vector=[DENSE])
        by_id = {int(r.id): r.vector[DENSE] for r in records}
        # A point deleted under a loaded build (a newer one is current): no similarity.
        missing = [0.0] * self.dim
        return np.asarray([by_id.get(p, missing) for p in ids], dtype=np.float32)

    def document_frequency(self, term: str) -> int:
        return self._frequencies.get(term, 0)
