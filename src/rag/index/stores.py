"""The passage index ``RAG_STORE`` names: opened for a build's queries, written by a build.

``write`` puts the passages and the answer sentences' vectors where the new build will find
them and returns what its manifest must record; ``finish`` runs once the build is current
(the Qdrant stores then drop the points only older builds used); ``close`` releases files if
the build failed. ``faiss`` keeps the sentence vectors in the build's ``sentences.npy``; the
Qdrant stores in a second shard or collection (the passages' name + ``-sentences``), the
build keeping only each sentence row's id (``sentence_ids.npy``).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from rag.errors import IndexError_
from rag.index.faiss_index import FaissPassageIndex
from rag.index.passage_index import BM25_B, BM25_K1, PassageIndex, PassagePoint
from rag.index.qdrant_common import SENTENCES
from rag.index.sentence_vectors import (
    SENTENCES_FILE,
    MappedSentenceVectors,
    SentenceVectors,
    StoredSentenceVectors,
)
from rag.settings import Settings, load_settings

if TYPE_CHECKING:
    from rag.index.qdrant_common import QdrantPassages

__all__ = [
    "SENTENCE_IDS",
    "TERM_FREQUENCIES",
    "PassageWriter",
    "QdrantWriter",
    "open_passage_index",
    "open_sentence_vectors",
    "open_writer",
]

TERM_FREQUENCIES = "term_frequencies.json"  # term -> passages holding it (the Qdrant stores)
SENTENCE_IDS = "sentence_ids.npy"  # each sentence row's point id (the Qdrant stores)


class PassageWriter(Protocol):
    def write(
        self, points: list[PassagePoint], sentence_ids: np.ndarray, sentence_vectors: np.ndarray
    ) -> dict[str, Any]: ...

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
    sparse = manifest["sparse"]
    return _open_qdrant(
        path,
        manifest,
        "",
        average_length=float(sparse["average_length"]),
        frequencies=json.loads((path / TERM_FREQUENCIES).read_text("utf-8")),
    )


def open_sentence_vectors(path: Path, manifest: dict[str, Any]) -> SentenceVectors:
    """The answer sentences' vectors of a build, opened for queries."""
    if manifest.get("store", "faiss") == "faiss":
        return MappedSentenceVectors(path)
    ids = np.load(path / SENTENCE_IDS)
    index = _open_qdrant(path, manifest, SENTENCES, sparse=False)
    return StoredSentenceVectors(index, ids, int(manifest["dim"]))


def _open_qdrant(path: Path, manifest: dict[str, Any], suffix: str, **options: Any) -> Any:
    """The Qdrant shard or collection a build's manifest names (+ ``suffix``)."""
    store, dim = manifest.get("store"), int(manifest["dim"])
    if store == "qdrant-edge":
        from rag.index.qdrant_index import QdrantEdgePassageIndex

        return QdrantEdgePassageIndex(
            _index_dir_of(path) / (manifest["shard"] + suffix), dim, **options
        )
    if store == "qdrant":
        from rag.index.qdrant_server import QdrantServerPassageIndex

        url, collection = manifest["qdrant"]["url"], manifest["qdrant"]["collection"]
        return QdrantServerPassageIndex(
            _server_client(url), url, collection + suffix, dim, **options
        )
    raise IndexError_(f"the index in {path} names an unknown store {store!r}: run `rag index`")


def _server_client(url: str) -> Any:
    """The client for the server a build was written to: the one this process already has,
    else a new one with the key and timeout from the environment (never from the manifest)."""
    from rag.index.qdrant_server import connect, shared_client

    client = shared_client(url)
    if client is not None:
        return client
    settings = load_settings()
    return connect(url, settings.qdrant_api_key.get_secret_value(), settings.qdrant_timeout)


def open_writer(settings: Settings, dim: int, build_dir: Path) -> PassageWriter:
    """The writer for ``settings.store`` (a ConfigError if its package is missing)."""
    if settings.store == "qdrant-edge":
        from rag.index.qdrant_index import QdrantEdgePassageIndex, require_qdrant_edge, shard_dir

        require_qdrant_edge()
        relative = shard_dir(Path("."), settings.embed_model, dim).as_posix()
        index = QdrantEdgePassageIndex(settings.index_dir / relative, dim)
        try:
            sentences = QdrantEdgePassageIndex(
                settings.index_dir / (relative + SENTENCES), dim, sparse=False
            )
        except BaseException:
            index.close()
            raise
        return QdrantWriter(index, sentences, build_dir, {"shard": relative})
    if settings.store == "qdrant":
        from rag.index.qdrant_server import (
            QdrantServerPassageIndex,
            collection_name,
            connect,
            display_url,
        )

        url = settings.qdrant_url
        client = connect(url, settings.qdrant_api_key.get_secret_value(), settings.qdrant_timeout)
        collection = collection_name(settings.embed_model, dim)
        index = QdrantServerPassageIndex(client, url, collection, dim, create=True)
        sentences = QdrantServerPassageIndex(
            client, url, collection + SENTENCES, dim, create=True, sparse=False
        )
        # The URL without credentials; the key stays in the settings.
        where = {"qdrant": {"url": display_url(url), "collection": collection}}
        return QdrantWriter(index, sentences, build_dir, where)
    return FaissWriter(dim, build_dir)


class FaissWriter:
    """FAISS and bm25s files written from scratch into the build's own folder."""

    def __init__(self, dim: int, build_dir: Path) -> None:
        self.dim, self.build_dir = dim, build_dir

    def write(
        self, points: list[PassagePoint], sentence_ids: np.ndarray, sentence_vectors: np.ndarray
    ) -> dict[str, Any]:
        index = FaissPassageIndex.create(self.build_dir, self.dim)
        index.upsert(points)
        index.close()
        np.save(self.build_dir / SENTENCES_FILE, sentence_vectors.astype(np.float32))
        return {}

    def finish(self) -> None:
        pass

    def close(self) -> None:
        pass


class QdrantWriter:
    """Upserts into the shared Qdrant points (the embedded shards, or the server's
    collections) only the passages and sentences they lack; deletes the ones no build needs
    later."""

    def __init__(
        self,
        index: QdrantPassages,
        sentences: QdrantPassages,
        build_dir: Path,
        where: dict[str, Any],
    ) -> None:
        self.index, self.sentences, self.build_dir, self.where = index, sentences, build_dir, where
        self.stale: set[int] = set()
        self.stale_sentences: set[int] = set()

    def write(
        self, points: list[PassagePoint], sentence_ids: np.ndarray, sentence_vectors: np.ndarray
    ) -> dict[str, Any]:
        self._write_sentences(sentence_ids, sentence_vectors)
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

    def _write_sentences(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        existing = self.sentences.ids()
        fresh = np.flatnonzero([int(p) not in existing for p in ids])
        if len(fresh) == len(ids):  # a first build: no copy of every vector
            self.sentences.upsert_vectors(ids, vectors)
        else:
            self.sentences.upsert_vectors(ids[fresh], vectors[fresh])
        self.sentences.optimize()
        self.sentences.flush()
        self.stale_sentences = existing - {int(p) for p in ids}
        np.save(self.build_dir / SENTENCE_IDS, np.asarray(ids, dtype=np.int64))

    def finish(self) -> None:
        self.index.delete(sorted(self.stale))
        self.sentences.delete(sorted(self.stale_sentences))
        self.index.record_length()
        self.close()

    def close(self) -> None:
        self.index.close()
        self.sentences.close()
