"""What the answerer reads of each sentence row's text, computed once per build, not per
question: its search terms, language, numbers, answer types and full names, whether it is a
heading, and the terms of the footnote entries it cites.

The index layer keeps the rows' text (``store.unit_text``) and the claim -> footnote chain
(``store.graph``); these features are the answer side's (``rag.answer_types`` among them),
cached beside the loaded build they were read from (one :class:`SentenceFeatures` a store).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from rag.answer_types import AnswerType, types_in
from rag.corpus.text import detect_language, full_names, is_heading, numbers, search_terms
from rag.index.store import IndexStore

__all__ = ["SentenceFeatures", "UnitFeatures"]

_BY_STORE: weakref.WeakKeyDictionary[IndexStore, SentenceFeatures] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class UnitFeatures:
    """A sentence's (or clause window's) search terms, language, numbers, and whether it is
    a heading."""

    terms: frozenset[str]
    language: str
    numbers: set[str]
    heading: bool
    types: frozenset[AnswerType]  # the kinds of answer it holds (a figure, a sum, a date)
    # its full names (rag.corpus.text.full_names)
    names: tuple[tuple[tuple[str, str], ...], ...] = ()


class SentenceFeatures:
    """The features of one loaded build's rows, each computed on first use (a benign race:
    two threads asking at once compute the same). ``SentenceFeatures.of(store)``: the one
    of a loaded build, dropped with it."""

    def __init__(self, store: IndexStore) -> None:
        self.store = weakref.proxy(store)  # the cache's key: held weakly, or never dropped
        self._units: dict[int, UnitFeatures] = {}
        self._note_terms: dict[int, frozenset[str]] = {}

    @classmethod
    def of(cls, store: IndexStore) -> SentenceFeatures:
        """The features of ``store``'s rows (one :class:`SentenceFeatures` a loaded build)."""
        found = _BY_STORE.get(store)
        if found is None:
            with _LOCK:
                found = _BY_STORE.setdefault(store, cls(store))
        return found

    def unit(self, row: int) -> UnitFeatures:
        """The features of a sentence (or clause window) row."""
        found = self._units.get(row)
        if found is None:
            text = self.store.unit_text(row)
            found = UnitFeatures(
                frozenset(search_terms(text)),
                detect_language(text),
                numbers(text),
                is_heading(text),
                types_in(text),
                tuple(tuple(name) for name in full_names(text)),
            )
            self._units[row] = found
        return found

    def passage_terms(self, passage: int) -> frozenset[str]:
        """The search terms of all a passage's rows (its sentences and clause windows)."""
        record = self.store.passages[passage]
        rows = range(record.first_sentence, record.last_sentence)
        return frozenset().union(*(self.unit(u).terms for u in rows))

    def footnote_terms(self, sentence: int) -> frozenset[str]:
        """The search terms of the footnote-list entries a sentence cites (author, title,
        publisher): through its footnote, a claim names its source."""
        found = self._note_terms.get(sentence)
        if found is None:
            entries = self.store.graph.entries_cited(sentence)
            found = frozenset().union(*(self.passage_terms(row) for row in entries))
            self._note_terms[sentence] = found
        return found
