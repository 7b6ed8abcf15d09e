"""The persisted index: build it atomically, say whether it is stale, load it for queries.

Layout under ``index_dir``::

    current -> builds/<id>      symlink, swapped atomically once a build is complete
    builds/<id>/manifest.json   format, embedder and dimension, chunking, each file's sha256
    builds/<id>/docstore.json … llama-index TextNodes; point_ids.npy their ids in the store
    builds/<id>/default__vector_store.json, bm25/   RAG_STORE=faiss: FAISS and bm25s
    qdrant/<embedder>-<dim>/    RAG_STORE=qdrant-edge: the embedded Qdrant shard, shared
                                by builds (a build's points are deleted only once a newer
                                build is current)
    builds/<id>/sentences.npy   RAG_STORE=faiss: sentence vectors, for picking what to quote
                                (memory-mapped); the Qdrant stores keep them in a second shard
                                or collection (<name>-sentences), the build their ids
                                (sentence_ids.npy)
    embeddings.sqlite           the embedding cache, shared by builds
    .build.lock                 one build at a time

A build killed at any moment leaves ``current`` pointing at the previous complete build.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout

from rag.corpus.chunking import Chunk, chunk_documents
from rag.corpus.documents import Document, candidate_files, load_documents
from rag.corpus.lexicon import Lexicon, lexicon_words, word_languages
from rag.corpus.text import detect_language, search_terms, strip_markers
from rag.errors import ConfigError, DocumentError, IndexBusyError
from rag.index.embeddings import Embedder, EmbeddingCache, word_embedder
from rag.index.footnote_graph import link_sources
from rag.index.passage_index import PassagePoint, point_id, sentence_id
from rag.index.store import IndexStore, write_store
from rag.index.stores import PassageWriter, open_writer
from rag.models import IndexStats
from rag.settings import Settings

__all__ = [
    "FORMAT_VERSION",
    "IndexStatus",
    "build_index",
    "footnote_counts",
    "index_status",
    "load_current",
]

log = logging.getLogger(__name__)

# 15: docs.json holds whole documents (entries apart from scopes; a source's footnotes are
# found at load); 14: the Qdrant stores keep the sentence vectors; 13: passage point ids
FORMAT_VERSION = 15
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class IndexStatus:
    """Whether the index can serve queries as it is."""

    state: str  # "ok", "missing" or "stale"
    reason: str
    manifest: dict[str, Any] | None


def _file_hashes(docs_dir: Path) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for path in candidate_files(docs_dir):
        try:
            hashes[path.relative_to(docs_dir).as_posix()] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
        except OSError:
            continue  # unreadable files are reported by the loader, not fatal here
    return hashes


def _settings_key(settings: Settings, dim: int) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "embedder": settings.embed_model,
        "dim": dim,
        "chunk_tokens": settings.chunk_tokens,
        "store": settings.store,
    }


def _read_manifest(build_dir: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((build_dir / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def index_status(settings: Settings, dim: int | None = None) -> IndexStatus:
    """Compare the current build's manifest with the settings and the files in docs/."""
    current = settings.index_dir / "current"
    manifest = _read_manifest(current) if current.exists() else None
    if manifest is None:
        return IndexStatus("missing", f"no index in {settings.index_dir}", None)
    want = _settings_key(settings, dim if dim is not None else manifest.get("dim", 0))
    for key, value in want.items():
        if manifest.get(key) != value:
            reason = f"built with {key}={manifest.get(key)!r}, settings ask for {value!r}"
            return IndexStatus("stale", reason, manifest)
    if manifest.get("files") != _file_hashes(settings.docs_dir):
        return IndexStatus("stale", f"documents in {settings.docs_dir} changed", manifest)
    return IndexStatus("ok", "up to date", manifest)


def _embed_text(doc: Document, chunk: Chunk) -> str:
    """What BM25 and the embedder see: the passage without the document's markers."""
    return strip_markers(doc.text[chunk.start : chunk.end])


def _embed_all(
    cache: EmbeddingCache, embedder: Embedder, texts: list[str], progress: Progress | None
) -> tuple[np.ndarray, int]:
    parts, fresh, step = [], 0, 1024
    if progress:
        progress("embedding", 0, len(texts))
    for i in range(0, len(texts), step):
        vectors, new = cache.embed(embedder, texts[i : i + step])
        parts.append(vectors)
        fresh += new
        if progress:
            progress("embedding", min(i + step, len(texts)), len(texts))
    if not parts:
        return np.zeros((0, embedder.dim), dtype=np.float32), 0
    return np.vstack(parts), fresh


def _passage_vectors(unit_vectors: np.ndarray, chunks: list[Chunk]) -> np.ndarray:
    """A passage's vector: the normalised mean of its whole sentences' vectors.

    Embedding sentences once and pooling them saves embedding every passage again, and
    keeps a passage's vector close to each sentence that a question may be about.
    """
    out = np.zeros((len(chunks), unit_vectors.shape[1]), dtype=np.float32)
    first = 0
    for row, chunk in enumerate(chunks):
        out[row] = unit_vectors[first : first + len(chunk.sentences)].mean(axis=0)
        first += len(chunk.units)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def _swap_in(index_dir: Path, build_dir: Path) -> None:
    """Point ``current`` at ``build_dir`` in one atomic rename, then drop older builds."""
    link = index_dir / "current"
    tmp_link = index_dir / f".current-{uuid.uuid4().hex}"
    os.symlink(Path("builds") / build_dir.name, tmp_link)
    if link.is_dir() and not link.is_symlink():
        # A real directory (an index copied with `cp -rL`, a restored backup) cannot be
        # replaced by a link in one step: move it among the builds, which are cleaned below.
        os.replace(link, index_dir / "builds" / f"replaced-{uuid.uuid4().hex[:8]}")
    os.replace(tmp_link, link)
    for old in (index_dir / "builds").iterdir():
        if old.name != build_dir.name:
            shutil.rmtree(old, ignore_errors=True)


def build_index(
    settings: Settings,
    embedder: Embedder,
    *,
    force: bool = False,
    progress: Progress | None = None,
    lock_timeout: float = 600.0,
) -> IndexStats:
    """Build the index for ``settings.docs_dir`` unless it is already up to date."""
    started = time.perf_counter()
    index_dir = settings.index_dir
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ConfigError(
            f"the index folder {index_dir} is a file: set RAG_INDEX_DIR to a folder"
        ) from None
    lock = FileLock(str(index_dir / ".build.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if lock_timeout <= 0:
            raise IndexBusyError(
                f"a rebuild of {index_dir} is running; try again shortly"
            ) from None
        log.info("another rebuild of %s is running; waiting for it", index_dir)
        try:
            lock.acquire(timeout=lock_timeout)
        except Timeout as err:
            raise IndexBusyError(
                f"another process has been rebuilding {index_dir} for over {lock_timeout:.0f} s;"
                " wait for it to finish, or remove index/.build.lock if no build is running"
            ) from err
    try:
        status = index_status(settings, embedder.dim)
        if status.state == "ok" and not force and status.manifest:
            counts = status.manifest["counts"]
            return IndexStats(
                rebuilt=False, embedded=0, reused=0, seconds=time.perf_counter() - started, **counts
            )
        return _build(settings, embedder, progress, started)
    finally:
        lock.release()


def _build(
    settings: Settings, embedder: Embedder, progress: Progress | None, started: float
) -> IndexStats:
    index_dir = settings.index_dir
    # The store's package before minutes of embedding, not after.
    if settings.store == "qdrant-edge":
        from rag.index.qdrant_index import require_qdrant_edge

        require_qdrant_edge()
    elif settings.store == "qdrant":
        from rag.index.qdrant_server import require_qdrant_client

        require_qdrant_client()
    hashes = _file_hashes(settings.docs_dir)
    docs, skipped = load_documents(settings.docs_dir)
    if not docs:
        reasons = "; ".join(f"{path}: {why}" for path, why in skipped) or "it is empty"
        raise DocumentError(
            f"no readable documents in {settings.docs_dir} ({reasons}): "
            "add .txt, .md or .html files"
        )
    docs = link_sources(docs)
    by_id = {d.doc_id: d for d in docs}
    chunks = chunk_documents(docs, settings.chunk_tokens)
    sentence_rows = [(n, s, e) for n, chunk in enumerate(chunks) for s, e in chunk.units]
    texts = [_embed_text(by_id[c.doc_id], c) for c in chunks]
    sentence_texts = [strip_markers(by_id[chunks[n].doc_id].text[s:e]) for n, s, e in sentence_rows]

    cache = EmbeddingCache(index_dir / "embeddings.sqlite")
    try:
        sentence_vectors, fresh = _embed_all(cache, embedder, sentence_texts, progress)
        words = lexicon_words(sentence_texts)
        word_vectors, _ = _embed_all(cache, word_embedder(embedder), words, None)
    finally:
        cache.close()
    languages = word_languages(words, sentence_texts, map(detect_language, sentence_texts))
    lexicon = Lexicon.build(words, word_vectors, languages)
    chunk_vectors = _passage_vectors(sentence_vectors, chunks)
    point_ids = [point_id(c.doc_id, c.start, c.end, t) for c, t in zip(chunks, texts, strict=True)]
    points = [
        PassagePoint(p, v, tuple(search_terms(t)))
        for p, v, t in zip(point_ids, chunk_vectors, texts, strict=True)
    ]
    sentence_ids = np.asarray(
        [sentence_id(point_ids[n], s, e) for n, s, e in sentence_rows], dtype=np.int64
    )

    footnotes = [f for d in docs for f in d.footnotes]
    with_url = [f for f in footnotes if f.url]
    counts = {
        "documents": len(docs),
        "passages": len(chunks),
        "footnotes": len(footnotes),
        "sources_fetched": sum(1 for f in with_url if f.source_doc_id),
        "sources_missing": sum(1 for f in with_url if not f.source_doc_id),
    }
    manifest = {
        **_settings_key(settings, embedder.dim),
        "word_dim": word_embedder(embedder).dim,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": hashes,
        "documents": {
            d.doc_id: {"path": d.path, "sha256": d.sha256}
            | ({} if d.is_source else {"footnotes": d.footnote_counts()})
            for d in docs
        },
        "skipped": skipped,
        "counts": counts,
    }
    (index_dir / "builds").mkdir(exist_ok=True)
    build_dir = index_dir / "builds" / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    writer: PassageWriter | None = None
    try:
        write_store(build_dir, docs, chunks, point_ids, sentence_rows)
        lexicon.save(build_dir)
        writer = open_writer(settings, embedder.dim, build_dir)
        manifest |= writer.write(points, sentence_ids, sentence_vectors)
        # The manifest goes last: a build directory without one is never used.
        (build_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
        _swap_in(index_dir, build_dir)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        if writer is not None:
            writer.close()
        raise
    writer.finish()  # now that the new build is current, drop what only older builds used
    log.info("index built in %s", build_dir)
    return IndexStats(
        rebuilt=True,
        embedded=fresh,
        reused=len(sentence_vectors) - fresh,
        seconds=time.perf_counter() - started,
        skipped=skipped,
        **counts,
    )


def footnote_counts(settings: Settings) -> list[tuple[str, dict[str, int]]]:
    """(path, footnotes found / used / unused / missing) of each document that is not a
    source, as the current build recorded them ([] without a build)."""
    current = settings.index_dir / "current"
    manifest = _read_manifest(current) if current.exists() else None
    documents = manifest.get("documents") if manifest else None
    if not isinstance(documents, dict):
        return []
    return [
        (str(entry.get("path", doc_id)), entry["footnotes"])
        for doc_id, entry in documents.items()
        if isinstance(entry, dict) and isinstance(entry.get("footnotes"), dict)
    ]


def load_current(settings: Settings) -> IndexStore:
    """The current build, loaded for queries (raises ``IndexError_`` if it is unusable)."""
    return IndexStore.load(settings.index_dir / "current")
