"""The corpus lexicon: the corpus's words, embedded one by one, as a bilingual dictionary.

A multilingual encoder places a word near its translations ("wish" near «пожелания»,
"German" near «немецкой», "başkent" near «столице»), even where it places a whole English
question far from the Russian sentence that answers it. So each question word is looked up
among the corpus's words in the other script; close ones help rank the sentences that use
them (see rag.ranking: they rank, they never decide whether to answer at all).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.text import content_words, is_cyrillic, stem_tokens

__all__ = ["MIN_SIMILARITY", "Lexicon", "lexicon_words"]

MAX_WORDS = 30_000  # the most frequent ones: a bigger corpus only adds rare forms
MIN_SIMILARITY = 0.75  # translations scored 0.77-0.90 here; unrelated neighbours below 0.7
PER_WORD = 3


def lexicon_words(texts: Iterable[str]) -> list[str]:
    """The corpus's content words worth a dictionary entry (four letters or more)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(w for w in content_words(text) if len(w) >= 4 and not w.isdigit())
    return sorted(w for w, _ in counts.most_common(MAX_WORDS))


@dataclass(frozen=True)
class Lexicon:
    """Words, their search stems and their vectors (rows aligned)."""

    words: list[str]
    stems: list[str]
    vectors: np.ndarray

    @classmethod
    def build(cls, words: list[str], vectors: np.ndarray) -> Lexicon:
        stems = [(stem_tokens(w) or [w])[0] for w in words]
        return cls(words, stems, vectors.astype(np.float32))

    def save(self, folder: Path) -> None:
        (folder / "lexicon.json").write_text(json.dumps(self.words, ensure_ascii=False), "utf-8")
        np.save(folder / "lexicon.npy", self.vectors)

    @classmethod
    def load(cls, folder: Path, dim: int) -> Lexicon:
        words = json.loads((folder / "lexicon.json").read_text("utf-8"))
        vectors = np.load(folder / "lexicon.npy")
        if not isinstance(words, list) or vectors.shape != (len(words), dim):
            raise ValueError("lexicon files do not match")
        return cls.build(words, vectors)

    def translations(self, words: Sequence[str], word_vectors: np.ndarray) -> list[frozenset[str]]:
        """For each word, the stems of corpus words in the other script that are close
        enough to stand for it. Within one script, stems already meet; a near neighbour
        there is a related word, not the same one."""
        out = [frozenset[str]() for _ in words]
        for cyrillic in (False, True):
            asking = [i for i, w in enumerate(words) if is_cyrillic(w) == cyrillic]
            other, matrix = self._by_script[not cyrillic]
            if not asking or not len(other):
                continue
            sims = word_vectors[asking] @ matrix.T
            top = min(PER_WORD, len(other))
            for i, row in zip(asking, sims, strict=True):
                best = np.argpartition(-row, top - 1)[:top]
                out[i] = frozenset(self.stems[other[j]] for j in best if row[j] >= MIN_SIMILARITY)
        return out

    def __post_init__(self) -> None:
        # Rows and vectors per script, split once: a question word is compared with the
        # other script's words only, without copying the matrix on every question.
        mask = np.array([is_cyrillic(w) for w in self.words], dtype=bool)
        by_script = {}
        for cyrillic in (False, True):
            rows = np.flatnonzero(mask == cyrillic)
            by_script[cyrillic] = (rows, np.ascontiguousarray(self.vectors[rows]))
        object.__setattr__(self, "_by_script", by_script)
