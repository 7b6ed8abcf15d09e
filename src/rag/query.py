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
from rag.corpus.lexicon import Lexicon
from rag.corpus.text import content_words, detect_language, numbers, question_words, words_of

__all__ = ["MAX_LOOKED_UP_WORDS", "Query", "asks_about_sources", "parse_query"]

MAX_LOOKED_UP_WORDS = 24  # a question's words looked up in the lexicon (a long one: the first)

# A question is about the sources themselves when it asks which kind of source ("which
# agency", «какое издание», "hangi gazete", "kaynağı nedir"), asks who wrote or what is
# cited, or quotes a title (three or more words in quotes). A source noun alone is not
# enough: "According to the agency, how much…" asks for the figure, and "Su Kaynakları"
# (water resources) is no source; nor are verbs of saying ("report", «сообщил»,
# "açıkladı"): "What did Peskov report?" asks what he said, which the article's claim answers.
_SOURCE_NOUN = re.compile(
    r"sources?|outlets?|agenc(?:y|ies)|newspapers?|publications?|publishers?|websites?|"
    r"journals?|magazines?|media|footnotes?|references?|"
    r"источник\w*|издани\w*|агентств\w*|газет\w*|сайт\w*|сми|журнал\w*|публикаци\w*|"
    r"сноск\w*|"
    r"kayna[kğ]\w*|ajans\w*|gazete\w*|yayın\w*|site\w*|dergi\w*|dipnot\w*",
    re.IGNORECASE,
)
# Question words that ask "which" of a noun a few words after them ("which news agency",
# "what is the source", «из какого источника», "hangi gazete")...
_ASKS_BEFORE = re.compile(
    r"which|what|whose|как(?:ой|ая|ое|ие|ого|ому|ом|ую|им|ими|их)|чей|чья|чьё|чьи|hangi\w*",
    re.IGNORECASE,
)
# ...and Turkish ones right after it ("kaynağı nedir", "kaynak ne").
_ASKS_AFTER = re.compile(r"ne|nedir|neydi|hangisi(?:dir)?|kim|kimdir", re.IGNORECASE)
ASKING_SPAN = 3  # words from the question word to the noun it asks about
_WHO_WROTE = re.compile(
    r"\bwho (wrote|authored|published)\b|\bкто (написал|опубликовал|автор)\w*|"
    r"\bkim (yazdı|yayımladı)\b|\bcit(ed|es|ing)\b|ссыла\w*|ссылк\w*|atıf\w*",
    re.IGNORECASE,
)
_QUOTED_TITLE = re.compile(r"[«“\"„][^»”\"“]*?\w+\W+\w+\W+\w+[^»”\"“]*[»”\"“]")
_CLAUSE = re.compile(r"[,;:.!?()«»“”\"]")


def asks_about_sources(question: str) -> bool:
    """Whether a question is about the sources themselves ("which outlet reported…")."""
    if _WHO_WROTE.search(question) or _QUOTED_TITLE.search(question):
        return True
    return any(_asks_which_source(clause) for clause in _CLAUSE.split(question))


def _asks_which_source(clause: str) -> bool:
    """Whether a clause (no punctuation inside) asks which source: a source noun at most
    :data:`ASKING_SPAN` words after a question word, or a Turkish one right after it."""
    tokens = words_of(clause)
    for i, token in enumerate(tokens):
        if not _SOURCE_NOUN.fullmatch(token):
            continue
        before = tokens[max(0, i - ASKING_SPAN) : i]
        if any(_ASKS_BEFORE.fullmatch(t) for t in before):
            return True
        if i + 1 < len(tokens) and _ASKS_AFTER.fullmatch(tokens[i + 1]):
            return True
    return False


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
    # For each content word: stems of corpus words of other languages standing for it.
    translations: tuple[frozenset[str], ...] = ()
    # For each content word: whether it is written as a name ("Uniper", "EU", not "when").
    names: tuple[bool, ...] = ()

    @property
    def translated_terms(self) -> list[str]:
        """Every translation of the question's words (index stems), each once, in order."""
        return list(dict.fromkeys(t for found in self.translations for t in sorted(found)))

    @classmethod
    def parse(
        cls,
        text: str,
        vector: np.ndarray,
        translations: Sequence[frozenset[str]] = (),
        language: str | None = None,
    ) -> Query:
        """The :class:`Query` of ``text``, given its vector, its words' translations and,
        when already known, its language."""
        words = tuple(question_words(text))
        found = list(translations)[: len(words)]
        found += [frozenset()] * (len(words) - len(found))
        return cls(
            text=text,
            language=language or detect_language(text),
            words=words,
            numbers=frozenset(numbers(text)),
            wanted=expected_type(text),
            about_sources=asks_about_sources(text),
            vector=vector,
            translations=tuple(found),
            names=tuple(name_flags(text)),
        )


def name_flags(text: str) -> list[bool]:
    """For each content word of ``text`` (rag.corpus.text.content_words), whether it is written as a
    name: capitalised after the first word, or in capitals ("NATO"). A question's first word
    is capitalised whatever it is."""
    content = content_words(text)
    flags: list[bool] = []
    for n, token in enumerate(words_of(text)):
        if len(flags) < len(content) and token.lower() == content[len(flags)]:
            capital = token[:1].isupper() and n > 0
            flags.append(capital or (len(token) > 1 and token.isupper()))
    return flags + [False] * (len(content) - len(flags))


def lookup_words(text: str) -> list[str]:
    """The words of ``text`` to look up in the lexicon (aligned with ``Query.words``)."""
    return content_words(text)[:MAX_LOOKED_UP_WORDS]


def parse_query(
    text: str,
    embed: Callable[[Sequence[str]], np.ndarray],
    lexicon: Lexicon,
    embed_words: Callable[[Sequence[str]], np.ndarray] | None = None,
) -> Query:
    """Embed ``text`` and its words, translate the words, and parse it. Words go through
    ``embed_words`` when the lexicon was built by another encoder (rag.index.embeddings.
    word_embedder); otherwise text and words are embedded in one call."""
    words = lookup_words(text)
    if embed_words is None:
        vectors = embed([text, *words])
        vector, word_vectors = vectors[0], vectors[1:]
    else:
        vector, word_vectors = embed([text])[0], embed_words(words)
    language = detect_language(text)
    translations = lexicon.translations(words, word_vectors, language)
    return Query.parse(text, vector, translations, language)
