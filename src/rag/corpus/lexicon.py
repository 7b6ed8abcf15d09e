"""The corpus lexicon: the corpus's words, embedded one by one, as a bilingual dictionary.

A multilingual encoder places a word near its translations ("wish" near «пожелания»,
"German" near «немецкой», "başkent" near «столице», "fishers" near "balıkçılar"), even
where it places a whole English question far from the Russian or Turkish sentence that
answers it. So each question word is looked up among the corpus's words of the other
languages (each word has the language of the sentences it occurs in); close ones help rank
the sentences that use them (rag.answer.ranking). Within the question's own language stems already
meet, and a near neighbour there is a related word, not the same one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.corpus.text import content_words, is_cyrillic, stem_tokens

__all__ = ["MIN_SIMILARITY", "Lexicon", "lexicon_words", "word_languages"]

MAX_WORDS = 30_000  # the most frequent ones: a bigger corpus only adds rare forms
MIN_SIMILARITY = 0.75  # translations scored 0.77-0.90 here; unrelated neighbours below 0.7
PER_WORD = 3


def lexicon_words(texts: Iterable[str]) -> list[str]:
    """The corpus's content words worth a dictionary entry (four letters or more)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(w for w in content_words(text) if len(w) >= 4 and not w.isdigit())
    return sorted(w for w, _ in counts.most_common(MAX_WORDS))


def word_languages(
    words: Sequence[str], texts: Iterable[str], languages: Iterable[str]
) -> list[str]:
    """For each of ``words``, the language of most of the ``texts`` (of ``languages``,
    aligned) that use it: "Trabzon" in a Turkish article is a Turkish word."""
    wanted = set(words)
    seen: dict[str, Counter[str]] = {}
    for text, language in zip(texts, languages, strict=True):
        for word in set(content_words(text)) & wanted:
            seen.setdefault(word, Counter())[language] += 1
    return [seen[w].most_common(1)[0][0] if w in seen else _by_script(w) for w in words]


def _by_script(word: str) -> str:
    """A word's language when nothing else tells: its script's."""
    return "ru" if is_cyrillic(word) else "en"


@dataclass(frozen=True)
class Lexicon:
    """Words, their search stems, languages and vectors (rows aligned)."""

    words: list[str]
    stems: list[str]
    vectors: np.ndarray
    languages: list[str]

    @classmethod
    def build(
        cls, words: list[str], vectors: np.ndarray, languages: Sequence[str] | None = None
    ) -> Lexicon:
        """Without ``languages``, each word's is its script's (Cyrillic: Russian)."""
        stems = [(stem_tokens(w) or [w])[0] for w in words]
        langs = list(languages) if languages is not None else [_by_script(w) for w in words]
        return cls(words, stems, vectors.astype(np.float32), langs)

    def save(self, folder: Path) -> None:
        entries = {"words": self.words, "languages": self.languages}
        (folder / "lexicon.json").write_text(json.dumps(entries, ensure_ascii=False), "utf-8")
        np.save(folder / "lexicon.npy", self.vectors)

    @classmethod
    def load(cls, folder: Path, dim: int) -> Lexicon:
        entries = json.loads((folder / "lexicon.json").read_text("utf-8"))
        vectors = np.load(folder / "lexicon.npy")
        words = entries.get("words") if isinstance(entries, dict) else None
        languages = entries.get("languages") if isinstance(entries, dict) else None
        if (
            not isinstance(words, list)
            or not isinstance(languages, list)
            or len(languages) != len(words)
            or vectors.shape != (len(words), dim)
        ):
            raise ValueError("lexicon files do not match")
        return cls.build(words, vectors, languages)

    def translations(
        self, words: Sequence[str], word_vectors: np.ndarray, language: str | None = None
    ) -> list[frozenset[str]]:
        """For each word (of a question in ``language``; by default each word's script's),
        the stems of corpus words of other languages close enough to stand for it."""
        out = [frozenset[str]() for _ in words]
        if not len(words) or not self.words:
            return out
        sims = word_vectors @ self.vectors.T
        for i, word in enumerate(words):
            others = self._other_than(language or _by_script(word))
            if not len(others):
                continue
            row = sims[i, others]
            top = min(PER_WORD, len(others))
            best = np.argpartition(-row, top - 1)[:top]
            out[i] = frozenset(self.stems[others[j]] for j in best if row[j] >= MIN_SIMILARITY)
        return out

    def _other_than(self, language: str) -> np.ndarray:
        """The rows of words in languages other than ``language`` (computed once each)."""
        cache = self._others
        if language not in cache:
            cache[language] = np.flatnonzero(self._languages != language)
        return cache[language]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_languages", np.array(self.languages, dtype=object))
        object.__setattr__(self, "_others", {})
