"""How a question is answered once its passages are found: one :class:`Answerer` interface.

:class:`QuotingAnswerer` quotes the documents' sentences (rag.answer.extractive, no LLM);
:class:`LLMWithFallback` has an LLM write the answer (rag.answer.llm) and gives way to the quoting
answerer when the LLM fails, when its reply fails verification, or when it abstains although
the documents' sentences answer. :func:`make_answerer` picks one from the settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from rag.answer.extractive import ExtractiveAnswerer, passage_of
from rag.index.store import IndexStore
from rag.models import Answer
from rag.profile import Profile
from rag.query import Query
from rag.retrieval import Hit
from rag.settings import Settings

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

    from rag.answer.llm import LLMAnswerer
    from rag.answer.verification import Embed

__all__ = [
    "Answerer",
    "LLMWithFallback",
    "QuotingAnswerer",
    "Search",
    "final_answer",
    "make_answerer",
]


@dataclass(frozen=True)
class Search:
    """What one question found: the index searched, the parsed question, the passages, best
    first, of which the caller asked for the best ``k`` (the LLM reads those; the extractive
    answerer weighs every sentence of them all)."""

    store: IndexStore
    query: Query
    hits: list[Hit]
    k: int


@runtime_checkable
class Answerer(Protocol):
    """Answers a parsed question from the passages found for it."""

    def answer(self, found: Search) -> Answer:
        """The final, verified answer."""
        ...

    def stream(self, found: Search) -> Iterator[str | Answer]:
        """The answer's text as it comes, then the final, verified :class:`Answer`."""
        ...


def final_answer(items: Iterable[str | Answer]) -> Answer:
    """The :class:`Answer` that ends a stream of text and answer."""
    final: Answer | None = None
    for item in items:
        if isinstance(item, Answer):
            final = item
    assert final is not None, "a stream ends with its answer"
    return final


class QuotingAnswerer:
    """The extractive answerer: the sentences that answer, quoted (rag.answer.extractive)."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile

    def answer(self, found: Search) -> Answer:
        return ExtractiveAnswerer(found.store, self.profile).answer(found.query, found.hits)

    def stream(self, found: Search) -> Iterator[str | Answer]:
        answer = self.answer(found)  # it comes whole
        yield answer.text
        yield answer


class LLMWithFallback:
    """The LLM writes the answer from the best ``found.k`` passages; ``fallback``'s answer
    ends the stream instead, with a note, when the LLM fails or its reply fails verification,
    or when it abstains although ``fallback`` answers (rag.answer.llm.answer_or_fallback)."""

    def __init__(self, llm_answerer: LLMAnswerer, fallback: Answerer) -> None:
        self.llm_answerer = llm_answerer
        self.fallback = fallback

    def answer(self, found: Search) -> Answer:
        return final_answer(self.stream(found))

    def stream(self, found: Search) -> Iterator[str | Answer]:
        from rag.answer.llm import answer_or_fallback

        passages = [passage_of(found.store, hit.row, hit.score) for hit in found.hits[: found.k]]
        written = self.llm_answerer.stream(found.query.text, passages)
        quote = partial(self.fallback.answer, found)
        yield from answer_or_fallback(written, quote, found.query.language)


def make_answerer(
    settings: Settings, quoting: Answerer, embed: Embed | None = None, llm: LLM | None = None
) -> Answerer:
    """The answerer ``settings`` ask for: ``quoting`` when ``RAG_LLM=none``, else the LLM
    (``llm`` replaces the OpenAI-like client; ``embed`` is for verification) falling back to
    ``quoting``. Nothing is contacted before the first question."""
    if settings.llm == "none":
        return quoting
    from rag.answer.llm import LLMAnswerer  # loads llama-index: only when an LLM is configured

    return LLMWithFallback(LLMAnswerer(settings, embed=embed, llm=llm), quoting)
