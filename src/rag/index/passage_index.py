"""The passage index behind one interface: dense and sparse search over passages.

The build upserts passages into it and deletes the ones gone; retrieval asks it for the
nearest passages to a question's vector and for the best BM25 matches of its search terms.
Three implementations: ``faiss`` (FAISS + bm25s files inside each build, the default),
``qdrant-edge`` (the Qdrant engine in-process, one shard under ``index/``) and ``qdrant`` (a
Qdrant server or cluster through ``qdrant-client``); the two Qdrant ones share their data
model and operations (``rag.index.qdrant_common``).

All see the same terms (``rag.corpus.text.search_terms``: Snowball per script plus
transliteration keys) and score them the same way, BM25 as bm25s computes it (Lucene's
variant, k1 = 1.5, b = 0.75): a passage's sparse vector holds each term's saturated term
frequency, the engine multiplies by the term's IDF. So they rank passages alike.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = [
    "BM25_B",
    "BM25_K1",
    "PassageIndex",
    "PassagePoint",
    "Scored",
    "point_id",
    "query_weights",
    "sentence_id",
    "term_id",
    "term_weights",
]

BM25_K1 = 1.5  # bm25s's defaults: the faiss store's BM25, matched by the sparse vectors
BM25_B = 0.75

Scored = list[tuple[int, float]]  # (point id, score), best first


@dataclass(frozen=True, slots=True)
class PassagePoint:
    """One passage as the index stores it: a stable id, its vector and its search terms."""

    id: int
    vector: np.ndarray
    terms: tuple[str, ...]


class PassageIndex(Protocol):
    """What the build and retrieval need of a passage index. Ids are ``point_id``s."""

    def upsert(self, points: Sequence[PassagePoint]) -> None:
        """Insert the points, replacing any already stored under the same id."""
        ...

    def delete(self, ids: Iterable[int]) -> None:
        """Remove these points (ids not stored are ignored)."""
        ...

    def dense_search(self, vector: np.ndarray, limit: int) -> Scored:
        """The ``limit`` points nearest ``vector`` by inner product."""
        ...

    def sparse_search(self, terms: Sequence[str], limit: int) -> Scored:
        """The ``limit`` best BM25 matches of ``terms`` (only scores above zero)."""
        ...

    def sparse_scores(self, terms: Sequence[str], ids: Sequence[int]) -> list[float]:
        """The BM25 score of each of ``ids`` for ``terms`` (zero where no term matches)."""
        ...

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        """The stored dense vectors of ``ids``, one row each."""
        ...

    def document_frequency(self, term: str) -> int:
        """How many passages hold ``term`` (0 if none)."""
        ...

    def count(self) -> int:
        """How many points are stored."""
        ...

    def close(self) -> None:
        """Persist what was written and release files."""
        ...


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def point_id(doc_id: str, start: int, end: int, text: str) -> int:
    """A passage's stable id: the same passage of the same text always gets the same one,
    so re-indexing upserts in place; edited text gets a new id, never overwriting the one
    the previous build still uses. 63 bits: Qdrant's ids are unsigned 64-bit integers."""
    return _hash64(f"{doc_id}\0{start}\0{end}\0{text}") >> 1


def sentence_id(passage: int, start: int, end: int) -> int:
    """An answer sentence's (or clause window's) stable id: its passage's ``point_id`` and
    its offsets, so the same sentence of the same passage keeps its id across builds."""
    return _hash64(f"{passage}\0{start}\0{end}") >> 1


def term_id(term: str) -> int:
    """A search term's dimension in the sparse vectors: 32 bits of a stable hash (Python's
    own ``hash`` changes with every process)."""
    return _hash64(term) >> 32


def term_weights(terms: Collection[str], average_length: float) -> dict[int, float]:
    """A passage's sparse vector: BM25's saturated term frequency of each term."""
    if not terms:
        return {}
    norm = BM25_K1 * (1 - BM25_B + BM25_B * len(terms) / max(average_length, 1e-9))
    return {term_id(t): tf / (tf + norm) for t, tf in Counter(terms).items()}


def query_weights(terms: Sequence[str]) -> dict[int, float]:
    """A question's sparse vector: each term counts as often as it occurs (as in bm25s)."""
    return {term_id(t): float(n) for t, n in Counter(terms).items()}
