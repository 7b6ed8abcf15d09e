"""The answer sentences' vectors (whole sentences and clause windows), read by row.

Ranking and answering read ``store.sentence_vectors[rows]``: an int gives one vector, a
sequence of rows gives one row each. Two implementations:

* ``MappedSentenceVectors`` (``faiss``): the build's ``sentences.npy``, memory-mapped, so RAM
  holds only the pages questions touch (``ArraySentenceVectors`` over any array);
* ``StoredSentenceVectors`` (``qdrant-edge``, ``qdrant``): the vectors are points of a second
  shard or collection, under ``sentence_id``s; the sentences of a question's passages are
  read in one batched retrieve (``prefetch``) and kept in a small cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.index.passage_index import PassageIndex

__all__ = [
    "CACHE_ROWS",
    "SENTENCES_FILE",
    "ArraySentenceVectors",
    "MappedSentenceVectors",
    "SentenceVectors",
    "StoredSentenceVectors",
]

SENTENCES_FILE = "sentences.npy"
CACHE_ROWS = 16_384  # vectors a stored collection keeps in RAM (8 MB at 128-d, 32 MB at 512)

Rows = int | np.integer | Sequence[int] | np.ndarray


class SentenceVectors(Protocol):
    """What ranking and answering need of the sentence vectors."""

    shape: tuple[int, int]

    def __getitem__(self, rows: Rows) -> np.ndarray:
        """One vector for an int row; one row per row for a sequence of rows."""
        ...

    def prefetch(self, rows: Iterable[int]) -> None:
        """Read these rows now, in one request, since they will be asked for one by one."""
        ...

    def close(self) -> None: ...


class ArraySentenceVectors:
    """Sentence vectors in an array, ``array[row]`` (in memory, or memory-mapped)."""

    def __init__(self, array: np.ndarray) -> None:
        self._array = array
        self.shape: tuple[int, int] = tuple(array.shape)  # type: ignore[assignment]

    def __getitem__(self, rows: Rows) -> np.ndarray:
        return np.asarray(self._array[rows])

    def prefetch(self, rows: Iterable[int]) -> None:
        pass  # the pages are read as they are touched

    def close(self) -> None:
        pass  # a mapping goes with its array


class MappedSentenceVectors(ArraySentenceVectors):
    """The ``faiss`` build's ``sentences.npy``, memory-mapped read-only."""

    def __init__(self, path: Path) -> None:
        super().__init__(np.load(path / SENTENCES_FILE, mmap_mode="r"))


class StoredSentenceVectors:
    """Sentence vectors kept as points of a Qdrant shard or collection: ``ids[row]`` is a
    row's point id. A point deleted under a loaded build (a newer one is current) reads as
    zeros, like ``PassageIndex.vectors``. Safe to share between threads."""

    def __init__(
        self, index: PassageIndex, ids: np.ndarray, dim: int, cache_rows: int = CACHE_ROWS
    ) -> None:
        self.index = index
        self._ids = ids
        self.shape = (len(ids), dim)
        self._limit = cache_rows
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def _read(self, rows: Iterable[int]) -> dict[int, np.ndarray]:
        found: dict[int, np.ndarray] = {}
        with self._lock:
            for row in rows:
                vector = self._cache.get(row)
                if vector is not None:
                    self._cache.move_to_end(row)
                    found[row] = vector
        missing = sorted({int(r) for r in rows} - found.keys())
        if missing:
            vectors = self.index.vectors([int(self._ids[r]) for r in missing])
            with self._lock:
                for row, vector in zip(missing, vectors, strict=True):
                    found[row] = self._cache[row] = vector.copy()
                while len(self._cache) > self._limit:
                    self._cache.popitem(last=False)
        return found

    def __getitem__(self, rows: Rows) -> np.ndarray:
        if isinstance(rows, int | np.integer):
            return self._read([int(rows)])[int(rows)]
        wanted = [int(r) for r in np.asarray(rows, dtype=np.int64).reshape(-1)]
        if not wanted:
            return np.zeros((0, self.shape[1]), dtype=np.float32)
        found = self._read(wanted)
        return np.stack([found[r] for r in wanted])

    def prefetch(self, rows: Iterable[int]) -> None:
        self._read([int(r) for r in rows])

    def close(self) -> None:
        self.index.close()
