"""The claim -> footnote -> source chain, in one place.

At build time :func:`link_sources` points each footnote at the fetched source behind it. Over
a loaded build, :class:`FootnoteGraph` answers the chain's questions: the footnotes of a span
(its markers' scopes and the footnote-list entry it may be), the footnote a source passage
stands for, the entry passage of a label, the claims under an entry, the sources a span
cites, and the article sentences that cite a source. Each answer is computed once.
"""

from __future__ import annotations

import weakref
from dataclasses import replace
from typing import TYPE_CHECKING

from rag.corpus.documents import Document
from rag.models import Footnote

if TYPE_CHECKING:
    from rag.index.store import IndexStore

__all__ = ["FootnoteGraph", "link_sources", "source_footnotes"]


def link_sources(docs: list[Document]) -> list[Document]:
    """Point each footnote at the fetched source behind it (matched by URL, else by label)."""
    by_url = {d.source_url.rstrip("/"): d.doc_id for d in docs if d.is_source and d.source_url}
    by_label = {d.source_label: d.doc_id for d in docs if d.is_source}
    linked = []
    for doc in docs:
        if doc.is_source or not doc.footnotes:
            linked.append(doc)
            continue
        notes = tuple(
            replace(f, source_doc_id=by_url.get(f.url.rstrip("/")) or by_label.get(f.label))
            for f in doc.footnotes
        )
        linked.append(replace(doc, footnotes=notes))
    return linked


def source_footnotes(docs: list[Document]) -> dict[str, dict[str, Footnote]]:
    """source doc id -> {label: the article's entry that points at it}."""
    by_source: dict[str, dict[str, Footnote]] = {}
    for doc in docs:
        for note in doc.footnotes:
            if note.source_doc_id:
                by_source.setdefault(note.source_doc_id, {})[note.label] = note
    return by_source


class FootnoteGraph:
    """The chain over one loaded build (``store``): read-only, safe to share between threads
    (a cache filled twice by a race holds the same). It holds the build weakly: the build
    holds it (``store.graph``), and a build no one uses is freed at once."""

    def __init__(self, store: IndexStore) -> None:
        self.store = weakref.proxy(store)
        self._source_notes = source_footnotes(list(store.docs.values()))
        self._entries: dict[str, dict[str, int]] = {}
        self._claims: dict[int, list[int]] = {}
        self._citing: dict[str, list[tuple[int, int]]] = {}

    def footnote(self, doc_id: str, label: str) -> Footnote:
        """The footnote ``label`` of a document: an article's own entry; for a source, the
        article's entry that points at it (a bare one when there is no entry)."""
        doc = self.store.docs[doc_id]
        if doc.footnotes:
            return doc.footnote(label)
        return self._source_notes.get(doc_id, {}).get(label) or Footnote(label=label)

    def footnotes_in(self, doc_id: str, start: int, end: int) -> list[Footnote]:
        """The footnotes of ``text[start:end]``: its markers' scopes, and the entry it is."""
        doc = self.store.docs[doc_id]
        return [self.footnote(doc_id, label) for label in doc.labels_in(start, end, entries=True)]

    def source_footnotes(self, source_doc_id: str) -> dict[str, Footnote]:
        """label -> the articles' entries that point at the source ``source_doc_id``."""
        return self._source_notes.get(source_doc_id, {})

    def sources_in(self, doc_id: str, start: int, end: int) -> list[tuple[Footnote, Document]]:
        """(footnote, its source document) for each footnote of an article's span whose
        source is in the index (none for a source's own text)."""
        docs = self.store.docs
        if docs[doc_id].is_source:
            return []
        notes = self.footnotes_in(doc_id, start, end)
        return [(n, docs[n.source_doc_id]) for n in notes if n.source_doc_id in docs]

    def entry_rows(self, doc_id: str) -> dict[str, int]:
        """label -> passage row of each footnote-list entry of a document."""
        found = self._entries.get(doc_id)
        if found is None:
            passages = self.store.passages
            found = {
                label: row
                for row in self.store.doc_passages(doc_id)
                if passages[row].kind == "footnote"
                for label in passages[row].labels
            }
            self._entries[doc_id] = found
        return found

    def entries_in(self, doc_id: str, start: int, end: int) -> list[int]:
        """The passage rows of the footnote-list entries of ``text[start:end]``'s labels."""
        entries = self.entry_rows(doc_id)
        labels = self.store.docs[doc_id].labels_in(start, end, entries=True)
        return [entries[label] for label in labels if label in entries]

    def entries_cited(self, sentence: int) -> list[int]:
        """The entry passage rows an article sentence (a claim, not an entry) cites."""
        passage, start, end = (int(x) for x in self.store.sentence_rows[sentence])
        record = self.store.passages[passage]
        if record.kind == "footnote" or self.store.docs[record.doc_id].is_source:
            return []
        return self.entries_in(record.doc_id, start, end)

    def claim_passages(self, entry: int) -> list[int]:
        """For a footnote-list entry's passage row: the rows of the passages holding the
        claims it backs (the text in its labels' scopes), in document order."""
        found = self._claims.get(entry)
        if found is None:
            passages = self.store.passages
            record = passages[entry]
            doc = self.store.docs[record.doc_id]
            found = [
                row
                for row in self.store.doc_passages(record.doc_id)
                if passages[row].kind != "footnote"
                and not set(record.labels).isdisjoint(
                    doc.labels_in(passages[row].start, passages[row].end, entries=True)
                )
            ]
            self._claims[entry] = found
        return found

    def citing_sentences(self, source_doc_id: str) -> list[tuple[int, int]]:
        """(sentence row, passage row) of the article sentences under a footnote whose source
        is ``source_doc_id``: the claims that source backs."""
        found = self._citing.get(source_doc_id)
        if found is None:
            found = self._find_citing(source_doc_id)
            self._citing[source_doc_id] = found
        return found

    def _find_citing(self, source_doc_id: str) -> list[tuple[int, int]]:
        store = self.store
        source = store.docs.get(source_doc_id)
        if source is None:
            return []
        found = []
        for doc in store.docs.values():
            note = doc.footnote(source.source_label or "")
            if doc.is_source or note.source_doc_id != source_doc_id:
                continue
            spans = [(sc.start, sc.end) for sc in doc.scopes if sc.label == note.label]
            spans += [doc.entry_spans[note.label]] if note.label in doc.entry_spans else []
            for passage in store.doc_passages(doc.doc_id):
                if store.passages[passage].kind == "footnote":
                    continue  # the footnote list's entry: it names the source, claims nothing
                for sentence, _ in store.sentence_groups(passage):
                    _, start, end = (int(x) for x in store.sentence_rows[sentence])
                    if any(start < e and s < end for s, e in spans):
                        found.append((sentence, passage))
        return found
