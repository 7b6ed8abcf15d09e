"""The ``qdrant-edge`` passage index: the Qdrant engine in-process (``qdrant-edge-py``).

One shard under ``index/qdrant/<embedder>-<dim>/`` holds every passage as a point of the
data model ``rag.index.qdrant_common`` describes (shared with the ``qdrant`` server store). Builds
share the shard: a rebuild upserts only the passages it does not hold yet and deletes the
ones no build needs once the new build is current, so a killed build leaves the previous one
whole (its points are never touched).

A shard can be open in one process only (its write-ahead log is locked), so within a
process the build and the loaded index share one open shard.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.errors import IndexBusyError
from rag.index.passage_index import Scored
from rag.index.qdrant_common import DENSE, SPARSE, QdrantPassages, require, store_name

__all__ = [
    "INSTALL_HINT",
    "WEIGHTS_FILE",
    "QdrantEdgePassageIndex",
    "close_all",
    "require_qdrant_edge",
    "shard_dir",
]

INSTALL_HINT = "pip install 'rag-footnotes[qdrant]'"
WEIGHTS_FILE = "rag_weights.json"  # beside the shard: the average length its weights use

_open: dict[Path, tuple[Any, int]] = {}  # shard folder -> (EdgeShard, users) in this process
_open_lock = threading.Lock()


def require_qdrant_edge() -> Any:
    """The ``qdrant_edge`` module, or a ConfigError saying how to install it."""
    return require("qdrant_edge", "qdrant-edge", "qdrant-edge-py", INSTALL_HINT)


def shard_dir(index_dir: Path, embedder: str, dim: int) -> Path:
    """Where the shard for this embedder lives (another embedder means another shard)."""
    return index_dir / "qdrant" / store_name(embedder, dim)


def _config(q: Any, dim: int, sparse: bool) -> Any:
    """A passage shard: dense (HNSW) and sparse vectors. A sentence shard: dense vectors on
    disk (memory-mapped) without an HNSW graph, since they are only read by id."""
    if sparse:
        return q.EdgeConfig(
            vectors={DENSE: q.EdgeVectorParams(size=dim, distance=q.Distance.Dot)},
            sparse_vectors={SPARSE: q.EdgeSparseVectorParams(modifier=q.Modifier.Idf)},
        )
    no_graph = q.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000)
    dense = q.EdgeVectorParams(
        size=dim, distance=q.Distance.Dot, on_disk=True, hnsw_config=no_graph
    )
    return q.EdgeConfig(vectors={DENSE: dense})


def _acquire(path: Path, dim: int, sparse: bool = True) -> Any:
    q = require_qdrant_edge()
    path = path.resolve()
    with _open_lock:
        shard, users = _open.get(path, (None, 0))
        if shard is None:
            try:
                if (path / "edge_config.json").exists() or (path / "wal").exists():
                    shard = q.EdgeShard.load(str(path))
                else:
                    path.mkdir(parents=True, exist_ok=True)
                    shard = q.EdgeShard.create(str(path), _config(q, dim, sparse))
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


class QdrantEdgePassageIndex(QdrantPassages):
    """Passages as points of an embedded Qdrant shard."""

    def __init__(
        self,
        path: Path,
        dim: int,
        *,
        average_length: float = 1.0,
        frequencies: dict[str, int] | None = None,
        sparse: bool = True,
    ) -> None:
        self._q = require_qdrant_edge()
        self.path = path
        self.dim = dim
        self.sparse = sparse
        self.average_length = average_length
        self._frequencies = frequencies or {}
        self._shard = _acquire(path, dim, sparse)
        self._closed = False

    def _sparse(self, weights: dict[int, float]) -> Any:
        keys = sorted(weights)
        return self._q.SparseVector(keys, [weights[k] for k in keys])

    # -- writing -------------------------------------------------------------------------------

    def _put(self, points: list[tuple[int, list[float], dict[int, float]]]) -> None:
        q = self._q
        batch = [
            q.Point(p, {DENSE: dense, SPARSE: self._sparse(w)} if self.sparse else {DENSE: dense})
            for p, dense, w in points
        ]
        self._shard.update(q.UpdateOperation.upsert_points(batch))

    def _put_terms(self, points: list[tuple[int, dict[int, float]]]) -> None:
        q = self._q
        batch = [q.PointVectors(p, {SPARSE: self._sparse(w)}) for p, w in points]
        self._shard.update(q.UpdateOperation.update_vectors(batch))

    def _remove(self, ids: list[int]) -> None:
        self._shard.update(self._q.UpdateOperation.delete_points(ids))

    def recorded_length(self) -> float | None:
        try:
            return float(json.loads((self.path / WEIGHTS_FILE).read_text("utf-8"))["average"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def record_length(self) -> None:
        (self.path / WEIGHTS_FILE).write_text(json.dumps({"average": self.average_length}), "utf-8")

    def ids(self) -> set[int]:
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

    def _nearest(
        self, query: list[float] | dict[int, float], limit: int, ids: Sequence[int] | None
    ) -> Scored:
        q = self._q
        if isinstance(query, dict):
            nearest = q.Query.Nearest(self._sparse(query), using=SPARSE)
        else:
            nearest = q.Query.Nearest(query, using=DENSE)
        where = q.Filter(must=[q.HasIdCondition(set(ids))]) if ids is not None else None
        found = self._shard.query(q.QueryRequest(limit=limit, query=nearest, filter=where))
        return [(int(p.id), float(p.score)) for p in found]

    def _dense_vectors(self, ids: list[int]) -> dict[int, Sequence[float]]:
        records = self._shard.retrieve(ids, with_payload=False, with_vector=[DENSE])
        return {int(r.id): r.vector[DENSE] for r in records}
