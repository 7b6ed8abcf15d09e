"""A question, parsed once: its language, words, numbers, the answer it wants, its intent.

Every stage (retrieval, ranking, answerability, answering) reads the same :class:`Query`
instead of re-deriving language or intent from the text, so they cannot disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rag.answer_types import AnswerType, expected_type
from rag.lexicon import Lexicon
from rag.text import content_words, detect_language, numbers, question_words

__all__ = ["MAX_LOOKED_UP_WORDS", "Query", "asks_about_sources", "parse_query"]

MAX_LOOKED_UP_WORDS = 24  # a question's words looked up in the lexicon (a long one: the first)

# A question is about the sources themselves when it names a kind of source ("which agency",
# «какое издание», "hangi gazete"), asks who wrote or what is cited, or quotes a title (three
# or more words in quotes). Verbs of saying ("report", «сообщил», "açıkladı") are not enough:
# "What did Peskov report?" asks what he said, which the article's claim answers.
_SOURCE_NOUNS = (
    r"sources?|outlets?|agenc(?:y|ies)|newspapers?|publications?|publishers?|websites?|"
    r"journals?|magazines?|media|footnotes?|references?|"
    r"источник\w*|издани\w*|агентств\w*|газет\w*|сайт\w*|сми|журнал\w*|публикаци\w*|"
    r"сноск\w*|"
    r"kaynak\w*|ajans\w*|gazete\w*|yayın\w*|site\w*|dergi\w*|dipnot\w*"
)
_SOURCE_ASKS = re.compile(
    rf"\b({_SOURCE_NOUNS})\b|\bwho (wrote|authored|published)\b|\bкто (написал|опубликовал|"
    r"автор)\w*|\bkim (yazdı|yayımladı)\b|\bcit(ed|es|ing)\b|ссыла\w*|ссылк\w*|atıf\w*",
    re.IGNORECASE,
)
_QUOTED_TITLE = re.compile(r"[«“\"„][^»”\"“]*?\w+\W+\w+\W+\w+[^»”\"“]*[»”\"“]")


def asks_about_sources(question: str) -> bool:
    """Whether a question is about the sources themselves ("which outlet reported…")."""
    return bool(_SOURCE_ASKS.search(question) or _QUOTED_TITLE.search(question))


@dataclass(frozen=True)
class Query:
    """What every stage needs to know about a question, computed once."""

    text: str
    language: str  # "ru", "en" or "tr"
    words: tuple[tuple[str, str], ...]  # content words as (stem, ~name key)
    numbers: frozenset[str]
    wanted: AnswerType | None  # the kind of answer asked for, if any
    about_sources: bool  # asks which source/outlet/author: footnote entries may answer
    vector: np.ndarray = field(repr=False)
    # For each content word: stems of corpus words in the other script standing for it.
    translations: tuple[frozenset[str], ...] = ()

    @classmethod
    def parse(
        cls,
        text: str,
        vector: np.ndarray,
        translations: Sequence[frozenset[str]] = (),
    ) -> Query:
        """The :class:`Query` of ``text``, given its vector and its words' translations."""
        words = tuple(question_words(text))
        found = list(translations)[: len(words)]
        found += [frozenset()] * (len(words) - len(found))
        return cls(
            text=text,
            language=detect_language(text),
            words=words,
            numbers=frozenset(numbers(text)),
            wanted=expected_type(text),
            about_sources=asks_about_sources(text),
            vector=vector,
            translations=tuple(found),
        )


def lookup_words(text: str) -> list[str]:
    """The words of ``text`` to look up in the lexicon (aligned with ``Query.words``)."""
    return content_words(text)[:MAX_LOOKED_UP_WORDS]


def parse_query(text: str, embed: Callable[[Sequence[str]], np.ndarray], lexicon: Lexicon) -> Query:
    """Embed ``text`` and its words in one call, translate the words, and parse it."""
    words = lookup_words(text)
    vectors = embed([text, *words])
    translations = lexicon.translations(words, vectors[1:])
    return Query.parse(text, vectors[0], translations)
