"""The public value types: what a query returns and what an index build reports."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "CITATION_MARKER",
    "Answer",
    "Citation",
    "Footnote",
    "IndexStats",
    "Passage",
    "SentenceFlag",
    "marker_text",
    "not_covered_message",
]

# The one format of an answer's citation markers: "[n]", n a Citation.marker. Written by the
# answerers, read by verification and the UI; a markdown link "[1](url)" is not one.
CITATION_MARKER = re.compile(r"\[(\d+)\](?!\()")


def marker_text(number: int) -> str:
    """The marker ``[number]`` that cites Citation ``number`` in an answer's text."""
    return f"[{number}]"


# What an abstaining answer says, in the question's language.
NOT_COVERED = {
    "ru": "В этих документах нет ответа на этот вопрос.",
    "en": "These documents don't cover this question.",
    "tr": "Bu belgelerde bu sorunun cevabı yok.",
}


def not_covered_message(language: str) -> str:
    """The abstention text, in the question's language (English for any other)."""
    return NOT_COVERED.get(language, NOT_COVERED["en"])


@dataclass(frozen=True, slots=True)
class Footnote:
    """One entry of an article's footnote list, as written there."""

    label: str
    title: str = ""
    publisher: str = ""
    url: str = ""
    accessed: str = ""
    source_doc_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Passage:
    """A verbatim span of a document: ``doc_text[start:end] == text``."""

    doc_id: str
    title: str
    text: str
    start: int
    end: int
    footnotes: list[Footnote] = field(default_factory=list)
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Citation(Passage):
    """A passage that backs the claim ending with ``[marker]`` in the answer text."""

    marker: int


@dataclass(frozen=True, slots=True)
class SentenceFlag:
    """A sentence of an LLM answer whose cited passages did not support it."""

    sentence: str
    reason: str


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer whose every ``[n]`` marker has exactly one citation with ``marker == n``."""

    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    notes: list[str] = field(default_factory=list)
    flags: list[SentenceFlag] = field(default_factory=list)
    mode: str = "extractive"
    # The answerability decision behind it (rag.answer.answerability): the probability that the
    # best sentence answers, the features it was computed from, and the calibration
    # profile's digest (rag.profile).
    confidence: float | None = None
    features: dict[str, float] = field(default_factory=dict)
    profile: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class IndexStats:
    """What a build did (or found already done)."""

    documents: int
    passages: int
    footnotes: int
    sources_fetched: int
    sources_missing: int
    embedded: int
    reused: int
    seconds: float
    rebuilt: bool
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        if not self.rebuilt:
            return (
                f"index up to date: {self.documents} documents, {self.passages} passages, "
                f"{self.footnotes} footnotes; nothing re-embedded ({self.seconds:.2f} s)"
            )
        return (
            f"indexed {self.documents} documents, {self.passages} passages, "
            f"{self.footnotes} footnotes; sources: {self.sources_fetched} of "
            f"{self.sources_fetched + self.sources_missing} saved; embedded {self.embedded}, "
            f"reused {self.reused} "
            f"({self.seconds:.2f} s)"
        )
