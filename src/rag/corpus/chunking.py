"""Chunking: sentence-aligned passages under a token budget, with their footnote labels.

A passage never crosses a paragraph, keeps verbatim offsets into the document's text, and
prefers to end where a footnote's scope ends, so a citation points at what one source backs.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import razdel

from rag.corpus.documents import Document
from rag.corpus.text import FOOTNOTE_MARKER, strip_markers
from rag.corpus.tokens import count_tokens

__all__ = ["Chunk", "chunk_document", "chunk_documents", "split_sentences"]

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of a document: ``doc.text[start:end]``, with the sentences inside it."""

    doc_id: str
    start: int
    end: int
    paragraph: int
    labels: tuple[str, ...]
    kind: str  # "body", "footnote" (an entry of the footnote list) or "source"
    sentences: tuple[Span, ...]
    windows: tuple[Span, ...] = ()  # clause windows of long sentences (see clause_windows)

    @property
    def units(self) -> tuple[Span, ...]:
        """What the answerer may quote: whole sentences first, then clause windows."""
        return self.sentences + self.windows


def _trimmed(text: str, start: int, end: int) -> Span:
    piece = text[start:end]
    return start + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())


def split_sentences(text: str, start: int, end: int) -> list[Span]:
    """Sentences of ``text[start:end]`` as spans; a footnote marker stays with its sentence.

    Markers are masked before splitting so that "тонн.[v]Эта" splits after the marker, and a
    marker right after a sentence's end is attached to that sentence, not the next one.
    """
    piece = text[start:end]
    masked = FOOTNOTE_MARKER.sub(lambda m: " " * len(m.group()), piece)
    markers = [(m.start(), m.end()) for m in FOOTNOTE_MARKER.finditer(piece)]
    spans: list[Span] = []
    for sentence in razdel.sentenize(masked):
        s, e = sentence.start, sentence.stop
        for m_start, m_end in markers:
            if m_start >= e and not piece[e:m_start].strip():
                e = m_end  # a marker (or a run of them) right after the sentence belongs to it
        if spans and s < spans[-1][1]:
            s = spans[-1][1]
        s, e = _trimmed(piece, s, e)
        if e > s:
            spans.append((s, e))
    return [(start + s, start + e) for s, e in spans]


# Long sentences bury their point: "…the meeting in Dushanbe, the capital of Tajikistan, was a
# step…; especially Putin's apology for the plane in December 2024 began…". Quoting and
# embedding windows of one or two clauses lets a question meet the clause it is about.
LONG_SENTENCE = 200
MIN_CLAUSE = 40
_CLAUSE_BREAK = re.compile(r"[;:,]\s+|\s+[—–]\s+")


def clause_windows(text: str, start: int, end: int) -> list[Span]:
    """Spans of one and two consecutive clauses of a long sentence (none for a short one)."""
    if end - start <= LONG_SENTENCE:
        return []
    cuts = [start]
    for match in _CLAUSE_BREAK.finditer(text, start, end):
        if match.end() - cuts[-1] >= MIN_CLAUSE and end - match.end() >= MIN_CLAUSE:
            cuts.append(match.end())
    cuts.append(end)
    clauses = [_trimmed(text, a, b) for a, b in itertools.pairwise(cuts)]
    if len(clauses) < 2:
        return []
    if len(clauses) == 2:
        return clauses
    windows = [(a[0], b[1]) for a, b in itertools.pairwise(clauses)]
    return [w for w in dict.fromkeys(windows) if w != (start, end)]


def _labels(doc: Document, spans: Iterable[Span]) -> tuple[str, ...]:
    labels: list[str] = []
    for s, e in spans:
        labels.extend(label for label in doc.labels_in(s, e) if label not in labels)
    return tuple(labels)


def chunk_document(
    doc: Document, max_tokens: int, count: Callable[[str], int] = count_tokens
) -> list[Chunk]:
    """Pack each paragraph's sentences into passages of at most ``max_tokens`` tokens.

    A single sentence longer than the budget stays whole: cutting it would cite half a claim.
    """
    kind = "source" if doc.is_source else "body"
    chunks: list[Chunk] = []
    for number, (p_start, p_end) in enumerate(doc.paragraphs):
        group: list[Span] = []
        tokens = 0

        def flush(group: list[Span], number: int = number) -> None:
            if group:
                windows = [w for s, e in group for w in clause_windows(doc.text, s, e)]
                chunks.append(
                    Chunk(
                        doc.doc_id,
                        group[0][0],
                        group[-1][1],
                        number,
                        _labels(doc, group),
                        kind,
                        tuple(group),
                        tuple(windows),
                    )
                )

        for span in split_sentences(doc.text, p_start, p_end):
            size = count(strip_markers(doc.text[span[0] : span[1]]))
            crosses_scope = group and _labels(doc, [span]) != _labels(doc, group[-1:])
            if group and (
                tokens + size > max_tokens or (crosses_scope and tokens >= max_tokens // 2)
            ):
                flush(group)
                group, tokens = [], 0
            group.append(span)
            tokens += size
        flush(group)
    for label, (start, end) in doc.entry_spans.items():
        chunks.append(Chunk(doc.doc_id, start, end, -1, (label,), "footnote", ((start, end),)))
    return chunks


def chunk_documents(docs: Iterable[Document], max_tokens: int) -> list[Chunk]:
    """All passages of all documents, in document order."""
    return [chunk for doc in docs for chunk in chunk_document(doc, max_tokens)]
