"""The passage index ``RAG_STORE`` names: opened for a build's queries, written by a build.

``write`` puts the passages where the new build will find them and returns what its manifest
must record; ``finish`` runs once the build is current (the Qdrant stores then drop the
points only older builds used); ``close`` releases files if the build failed.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from rag.errors import IndexError_
from rag.faiss_index import FaissPassageIndex
from rag.passage_index import BM25_B, BM25_K1, PassageIndex, PassagePoint
from rag.settings import Settings, load_settings

if TYPE_CHECKING:
    from rag.qdrant_common import QdrantPassages

__all__ = [
    "TERM_FREQUENCIES",
    "PassageWriter",
    "QdrantWriter",
    "open_passage_index",
    "open_writer",
]

TERM_FREQUENCIES = "term_frequencies.json"  # term -> passages holding it (the Qdrant stores)


class PassageWriter(Protocol):
    def write(self, points: list[PassagePoint]) -> dict[str, Any]: ...

    def finish(self) -> None: ...

    def close(self) -> None: ...


def _index_dir_of(build_dir: Path) -> Path:
    """The ``index/`` folder a build lives in (``builds/<id>``, or a copied ``current``)."""
    return build_dir.parent.parent if build_dir.parent.name == "builds" else build_dir.parent


def open_passage_index(path: Path, manifest: dict[str, Any], point_ids: np.ndarray) -> PassageIndex:
    """The passage index a build's manifest names, opened for queries."""
    store = manifest.get("store", "faiss")
    if store == "faiss":
        index = FaissPassageIndex.load(path, point_ids)
        if index.faiss.ntotal != len(point_ids) or index.faiss.d != manifest["dim"]:
            raise IndexError_(f"FAISS index in {path} does not match its manifest")
        return index
    if store in ("qdrant-edge", "qdrant"):
        sparse = manifest["sparse"]
        average = float(sparse["average_length"])
        frequencies = json.loads((path / TERM_FREQUENCIES).read_text("utf-8"))
        if store == "qdrant-edge":
            from rag.qdrant_index import QdrantEdgePassageIndex

            return QdrantEdgePassageIndex(
                _index_dir_of(path) / manifest["shard"],
                int(manifest["dim"]),
                average_length=average,
                frequencies=frequencies,
            )
        from rag.qdrant_server import QdrantServerPassageIndex

        url, collection = manifest["qdrant"]["url"], manifest["qdrant"]["collection"]
        return QdrantServerPassageIndex(
            _server_client(url),
            url,
            collection,
            int(manifest["dim"]),
            average_length=average,
            frequencies=frequencies,
        )
    raise IndexError_(f"the index in {path} names an unknown store {store!r}: run `rag index`")


def _server_client(url: str) -> Any:
    """The client for the server a build was written to: the one this process already has,
    else a new one with the key and timeout from the environment (never from the manifest)."""
    from rag.qdrant_server import connect, shared_client

    client = shared_client(url)
    if client is not None:
        return client
    settings = load_settings()
    return connect(url, settings.qdrant_api_key.get_secret_value(), settings.qdrant_timeout)


def open_writer(settings: Settings, dim: int, build_dir: Path) -> PassageWriter:
    """The writer for ``settings.store`` (a ConfigError if its package is missing)."""
    if settings.store == "qdrant-edge":
        from rag.qdrant_index import QdrantEdgePassageIndex, require_qdrant_edge, shard_dir

        require_qdrant_edge()
        relative = shard_dir(Path("."), settings.embed_model, dim).as_posix()
        index = QdrantEdgePassageIndex(settings.index_dir / relative, dim)
        return QdrantWriter(index, build_dir, {"shard": relative})
    if settings.store == "qdrant":
        from rag.qdrant_server import (
            QdrantServerPassageIndex,
            collection_name,
            connect,
            display_url,
        )

        url = settings.qdrant_url
        client = connect(url, settings.qdrant_api_key.get_secret_value(), settings.qdrant_timeout)
        collection = collection_name(settings.embed_model, dim)
        index = QdrantServerPassageIndex(client, url, collection, dim, create=True)
        # The URL without credentials; the key stays in the settings.
        return QdrantWriter(
            index, build_dir, {"qdrant": {"url": display_url(url), "collection": collection}}
        )
    return FaissWriter(dim, build_dir)


class FaissWriter:
    """FAISS and bm25s files written from scratch into the build's own folder."""

    def __init__(self, dim: int, build_dir: Path) -> None:
        self.dim, self.build_dir = dim, build_dir

    def write(self, points: list[PassagePoint]) -> dict[str, Any]:
        index = FaissPassageIndex.create(self.build_dir, self.dim)
        index.upsert(points)
        index.close()
        return {}

    def finish(self) -> None:
        pass

    def close(self) -> None:
        pass


class QdrantWriter:
    """Upserts into the shared Qdrant points (the embedded shard, or the server's
    collection) only the passages they lack; deletes the ones no build needs later."""

    def __init__(self, index: QdrantPassages, build_dir: Path, where: dict[str, Any]) -> None:
        self.index, self.build_dir, self.where = index, build_dir, where
        self.stale: set[int] = set()

    def write(self, points: list[PassagePoint]) -> dict[str, Any]:
        # bm25s counts a passage without terms as one empty term; so do the weights here.
        average = sum(max(len(p.terms), 1) for p in points) / max(len(points), 1)
        self.index.average_length = average
        existing = self.index.ids()
        self.index.upsert([p for p in points if p.id not in existing])
        if self.index.recorded_length() != average:
            # The average passage length changed: every kept passage's weights change too.
            self.index.update_terms([p for p in points if p.id in existing])
        self.index.optimize()
        self.index.flush()
        self.stale = existing - {p.id for p in points}
        frequencies = Counter(t for p in points for t in set(p.terms))
        (self.build_dir / TERM_FREQUENCIES).write_text(
            json.dumps(frequencies, ensure_ascii=False), "utf-8"
        )
        return self.where | {"sparse": {"average_length": average, "k1": BM25_K1, "b": BM25_B}}

    def finish(self) -> None:
        self.index.delete(sorted(self.stale))
        self.index.record_length()
        self.close()

    def close(self) -> None:
        self.index.close()
