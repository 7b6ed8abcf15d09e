"""Sentence ranking: every sentence of the retrieved passages, scored against the question.

The embedder carries meaning across languages; the question's words (as written, by name
key, or translated through the corpus lexicon) carry names and figures that embeddings blur;
the expected answer type (rag.answer_types) drops or demotes sentences that cannot answer.
Two numbers come out for each sentence: ``score`` ranks, ``support`` decides whether to
answer at all (see rag.answering).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer_types import STRICT, expected_type
from rag.retrieval import Hit
from rag.store import IndexStore
from rag.text import asks_about_sources, detect_language, numbers, question_words

__all__ = ["Candidate", "rank_sentences"]

# Score = best cosine + LEXICAL_WEIGHT x IDF-weighted share of the question's words found,
# as written or translated, among those the corpus holds at all (+ NUMBER_WEIGHT when a number
# of the question appears). Support, what abstention looks at, counts only the words found as
# written, among all of the question's words: a word the corpus never uses may be the very
# thing asked about, and a translated topic word is not the thing asked about.
LEXICAL_WEIGHT = 0.5
NUMBER_WEIGHT = 0.05
# A question asking for a figure, a sum or a date ("how much", "когда", "ne kadar") is answered
# by a sentence holding one: the others lose TYPE_WEIGHT, or drop out when nothing else can
# answer (rag.answer_types.STRICT: "how many", "сколько стоит", "kaç").
TYPE_WEIGHT = 0.1
MIN_PREFIX = 5  # stems sharing this long a prefix count as the same word (supplies/supplier)
# The article is what is asked about; its sources back it through the footnote chain. A
# source sentence stands for the article claim citing it (rag.answering) a little below a
# sentence of the article that answers as well.
SOURCE_PENALTY = 0.05


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence of a retrieved passage, scored against the question."""

    sentence: int  # row in store.sentence_rows
    passage: int  # row in store.passages
    start: int
    end: int
    score: float
    retrieval: float
    coverage: float  # share of the question's content words found in the sentence
    same_language: bool  # question and sentence are in the same language
    cosine: float  # best cosine of the sentence or one of its clause windows
    support: float = 0.0  # the score without translated words: what abstention looks at
    words: frozenset[int] = frozenset()  # the question's words it holds (by index)
    via: int | None = None  # for a claim found through its source: that source sentence's row
    own: float | None = None  # then, the claim's own score, when it was a candidate itself


def _word_weights(
    store: IndexStore, words: list[tuple[str, str]]
) -> tuple[list[float], list[bool]]:
    """How much each question word says: its IDF over passages (rare names weigh most), and
    whether the corpus uses it at all (by stem or name key).

    A word the corpus never uses weighs as much as the rarest one: it may be the very thing
    asked about ("manat" in "the exchange rate of the manat").
    """
    unseen = float(np.log(len(store.passages) + 1)) or 1.0
    weights, seen = [], []
    for stem, key in words:
        known = [w for w in (store.idf(stem), store.idf(key) if key else None) if w is not None]
        weights.append(max(known) if known else unseen)
        seen.append(bool(known))
    return weights, seen


def _findable_weights(
    weights: list[float], seen: list[bool], alternatives: list[frozenset[str]]
) -> list[float]:
    """``weights``, with 0 for the words no sentence can show: neither the word nor its name
    key occurs in the corpus, and it has no translation there (most words of an English
    question over a Russian text). Ranking counts only the words that can be found, so the
    one name or translated word that is found weighs what it should."""
    return [
        weight if known or alts else 0.0
        for weight, known, alts in zip(weights, seen, alternatives, strict=True)
    ]


def _shares_prefix(stem: str, terms: frozenset[str]) -> bool:
    """Whether a longer stem and a term start alike: stemmers leave "suppli"/"supplier"."""
    if len(stem) < MIN_PREFIX:
        return False
    head = stem[:MIN_PREFIX]
    return any(t.startswith(head) and (t.startswith(stem) or stem.startswith(t)) for t in terms)


def _found_words(
    words: list[tuple[str, str]], alternatives: list[frozenset[str]], terms: frozenset[str]
) -> tuple[frozenset[int], frozenset[int]]:
    """Which of the question's words ``terms`` holds: (as written, only through a translation).

    A word counts as written when its stem, its name key or a stem sharing a long prefix is
    among the terms; as translated when one of its other-script translations is.
    """
    direct = set()
    translated = set()
    for i, ((stem, key), alts) in enumerate(zip(words, alternatives, strict=True)):
        if stem in terms or key in terms or _shares_prefix(stem, terms):
            direct.add(i)
        elif alts and not alts.isdisjoint(terms):
            translated.add(i)
    return frozenset(direct), frozenset(translated)


def _share(found: frozenset[int], weights: list[float]) -> float:
    """The IDF-weighted share of the question's words that ``found`` holds."""
    total = sum(weights)
    return sum(weights[i] for i in found) / total if total else 0.0


def rank_sentences(
    store: IndexStore,
    question: str,
    query_vector: np.ndarray,
    hits: list[Hit],
    translations: Sequence[frozenset[str]] = (),
) -> list[Candidate]:
    """Every sentence of the retrieved passages that could answer, best first.

    Score = the best cosine between the question and the sentence or one of its clause
    windows, plus a bonus for the question's words and numbers found in the sentence, less
    a penalty when it lacks the kind of answer asked for (see the constants above).
    """
    words = question_words(question)
    weights, seen = _word_weights(store, words)
    alternatives = list(translations)[: len(words)]
    alternatives += [frozenset()] * (len(words) - len(alternatives))
    q_numbers = numbers(question)
    # An entry of the footnote list (author, title, publisher, URL) is metadata about a
    # claim, not the claim; its title often paraphrases the question and would outrank the
    # sentence that answers. Entries are quoted only for questions about sources.
    entries_allowed = asks_about_sources(question)
    language = detect_language(question)
    wanted = expected_type(question)
    findable = _findable_weights(weights, seen, alternatives)
    out = []
    for hit in hits:
        record = store.passages[hit.row]
        if record.kind == "footnote" and not entries_allowed:
            continue
        for sentence, units in store.sentence_groups(hit.row):
            features = store.unit_features(sentence)
            if features.heading:
                continue  # a title names a topic; it answers nothing
            cosine = float(np.max(store.sentence_vectors[units] @ query_vector))
            _, start, end = (int(x) for x in store.sentence_rows[sentence])
            terms = features.terms
            direct, translated = _found_words(words, alternatives, terms)
            coverage = _share(direct, weights)
            adjust = NUMBER_WEIGHT if q_numbers & features.numbers else 0.0
            if wanted is not None and wanted not in features.types:
                if wanted in STRICT:
                    continue  # "how many" is not answered by a sentence without a figure
                adjust -= TYPE_WEIGHT
            support = cosine + LEXICAL_WEIGHT * coverage + adjust
            score = cosine + LEXICAL_WEIGHT * _share(direct | translated, findable) + adjust
            if record.kind == "source":
                score -= SOURCE_PENALTY
            same = features.language == language
            out.append(
                Candidate(
                    sentence=sentence,
                    passage=hit.row,
                    start=start,
                    end=end,
                    score=score,
                    retrieval=hit.score,
                    coverage=coverage,
                    same_language=same,
                    cosine=cosine,
                    support=support,
                    words=direct | translated,
                )
            )
    out.sort(key=lambda c: c.score, reverse=True)
    return out
