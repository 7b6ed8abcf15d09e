"""Sentence ranking: every sentence of the retrieved passages, scored against the question.

The embedder carries meaning across languages; the question's words (as written, by name
key, or translated through the corpus lexicon) carry names and figures that embeddings blur;
the expected answer type (rag.answer_types) drops or demotes sentences that cannot answer.
``score`` ranks; the features beside it (coverage, lexical share, type) feed the decision
whether to answer at all (rag.answerability).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer_types import STRICT
from rag.profile import Profile
from rag.query import Query
from rag.retrieval import Hit
from rag.store import IndexStore

__all__ = ["Candidate", "QueryTerms", "query_terms", "rank_sentences"]

# Score = best cosine + lexical_weight x IDF-weighted share of the question's words found,
# as written or translated, among those the corpus holds at all (+ number_weight when a number
# of the question appears). A question asking for a figure, a sum or a date ("how much",
# "когда", "ne kadar") is answered by a sentence holding one: the others lose type_weight, or
# drop out when nothing else can answer (rag.answer_types.STRICT: "how many", "kaç"). The
# weights are the profile's (rag.profile).
MIN_PREFIX = 5  # stems sharing this long a prefix count as the same word (supplies/supplier)


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
    lexical: float = 0.0  # share of the findable question words found, translations included
    typed: bool = True  # it holds the kind of answer asked for (or none was asked for)
    words: frozenset[int] = frozenset()  # the question's words it holds (by index)
    via: int | None = None  # for a claim found through its source: that source sentence's row
    own: float | None = None  # then, the claim's own score, when it was a candidate itself


@dataclass(frozen=True)
class QueryTerms:
    """How much each question word says, and whether the corpus can show it.

    ``weights``: its IDF over passages (rare names weigh most); a word the corpus never uses
    weighs as much as the rarest one: it may be the very thing asked about ("manat" in "the
    exchange rate of the manat"). ``findable``: the weights, with 0 for the words no sentence
    can show (neither the word nor its name key occurs, and it has no translation there: most
    words of an English question over a Russian text), so that the one name or translated
    word that is found weighs what it should when ranking.
    """

    weights: list[float]
    findable: list[float]

    @property
    def unseen(self) -> float:
        """The weighted share of the question's words that no sentence of the corpus shows."""
        total = sum(self.weights)
        return 1.0 - sum(self.findable) / total if total else 0.0


def query_terms(store: IndexStore, query: Query) -> QueryTerms:
    """The :class:`QueryTerms` of ``query`` over ``store``'s corpus."""
    unseen = float(np.log(len(store.passages) + 1)) or 1.0
    weights, findable = [], []
    for (stem, key), alts in zip(query.words, query.translations, strict=True):
        known = [w for w in (store.idf(stem), store.idf(key) if key else None) if w is not None]
        weight = max(known) if known else unseen
        weights.append(weight)
        findable.append(weight if known or alts else 0.0)
    return QueryTerms(weights, findable)


def _shares_prefix(stem: str, terms: frozenset[str]) -> bool:
    """Whether a longer stem and a term start alike: stemmers leave "suppli"/"supplier"."""
    if len(stem) < MIN_PREFIX:
        return False
    head = stem[:MIN_PREFIX]
    return any(t.startswith(head) and (t.startswith(stem) or stem.startswith(t)) for t in terms)


def _found_words(
    words: Sequence[tuple[str, str]], alternatives: Sequence[frozenset[str]], terms: frozenset[str]
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
    query: Query,
    hits: list[Hit],
    profile: Profile,
    terms: QueryTerms | None = None,
) -> list[Candidate]:
    """Every sentence of the retrieved passages that could answer, best first.

    Score = the best cosine between the question and the sentence or one of its clause
    windows, plus a bonus for the question's words and numbers found in the sentence, less
    a penalty when it lacks the kind of answer asked for (see the comment above).
    """
    terms = terms or query_terms(store, query)
    # An entry of the footnote list (author, title, publisher, URL) is metadata about a
    # claim, not the claim; its title often paraphrases the question and would outrank the
    # sentence that answers. Entries are quoted only for questions about sources.
    out = []
    for hit in hits:
        record = store.passages[hit.row]
        if record.kind == "footnote" and not query.about_sources:
            continue
        for sentence, units in store.sentence_groups(hit.row):
            features = store.unit_features(sentence)
            if features.heading:
                continue  # a title names a topic; it answers nothing
            typed = query.wanted is None or query.wanted in features.types
            if not typed and query.wanted in STRICT:
                continue  # "how many" is not answered by a sentence without a figure
            cosine = float(np.max(store.sentence_vectors[units] @ query.vector))
            _, start, end = (int(x) for x in store.sentence_rows[sentence])
            direct, translated = _found_words(query.words, query.translations, features.terms)
            lexical = _share(direct | translated, terms.findable)
            adjust = profile.number_weight if query.numbers & features.numbers else 0.0
            if not typed:
                adjust -= profile.type_weight
            score = cosine + profile.lexical_weight * lexical + adjust
            if record.kind == "source":
                score -= profile.source_penalty
            out.append(
                Candidate(
                    sentence=sentence,
                    passage=hit.row,
                    start=start,
                    end=end,
                    score=score,
                    retrieval=hit.score,
                    coverage=_share(direct, terms.weights),
                    same_language=features.language == query.language,
                    cosine=cosine,
                    lexical=lexical,
                    typed=typed,
                    words=direct | translated,
                )
            )
    out.sort(key=lambda c: c.score, reverse=True)
    return out
