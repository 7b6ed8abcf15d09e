"""Sentence ranking: every sentence of the retrieved passages, scored against the question.

The embedder carries meaning across languages; the question's words (as written, by name
key, or translated through the corpus lexicon) carry names and figures that embeddings blur;
the expected answer type (rag.answer_types) drops or demotes sentences that cannot answer.
``score`` ranks; the features beside it (coverage, lexical share, type) feed the decision
whether to answer at all (rag.answer.answerability).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer.sentence_features import SentenceFeatures, UnitFeatures
from rag.answer_types import STRICT, AnswerType
from rag.index.store import IndexStore
from rag.profile import Profile
from rag.query import Query
from rag.retrieval import Hit

__all__ = ["Candidate", "QueryTerms", "holds_wanted", "query_terms", "rank_sentences"]

# Score = best cosine + lexical_weight x IDF-weighted share of the question's words found,
# as written or translated, among those the corpus holds at all (+ number_weight when a number
# of the question appears). A question asking for a figure, a sum or a date ("how much",
# "когда", "ne kadar") is answered by a sentence holding one: the others lose type_weight, or
# drop out when nothing else can answer (rag.answer_types.STRICT: "how many", "kaç"). The
# weights are the profile's (rag.profile).
# A question word found only in the footnote entry a claim cites (the cited author, the
# source's title) counts at profile.noted_weight of one the claim itself holds: the claim is
# where the source is quoted, but of two claims under one footnote the one saying it wins.
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
    # share of the findable question words found (translations included; those only in the
    # footnote entry it cites at profile.noted_weight)
    lexical: float = 0.0
    typed: bool = True  # it holds the kind of answer asked for (or none was asked for)
    # the same, with no exception for "who" (``typed`` counts a sentence without a name as
    # typed: a role can answer "who"); selection prefers a neighbour that holds the name
    holds_type: bool = True
    context: int | None = None  # where the sentence before it starts, when read with it
    numbered: bool = True  # it holds a number the question names (or the question names none)
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
    unknown_name: bool = False  # a name of the question that the corpus shows in no form
    names: tuple[bool, ...] = ()  # per word: whether it is a name (rag.query.name_flags)

    @property
    def unseen(self) -> float:
        """The weighted share of the question's words that no sentence of the corpus shows."""
        total = sum(self.weights)
        return 1.0 - sum(self.findable) / total if total else 0.0


def query_terms(store: IndexStore, query: Query) -> QueryTerms:
    """The :class:`QueryTerms` of ``query`` over ``store``'s corpus."""
    unseen = float(np.log(len(store.passages) + 1)) or 1.0
    weights, findable = [], []
    unknown_name = False
    names = query.names or (False,) * len(query.words)
    for (stem, key), alts, name in zip(query.words, query.translations, names, strict=True):
        known = [w for w in (store.idf(stem), store.idf(key) if key else None) if w is not None]
        weight = max(known) if known else unseen
        weights.append(weight)
        findable.append(weight if known or alts else 0.0)
        unknown_name |= name and not known and not alts
    return QueryTerms(weights, findable, unknown_name, tuple(names))


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


def _noted_words(features: SentenceFeatures, query: Query, sentence: int) -> frozenset[int]:
    """Which of the question's words the footnote entries a claim cites hold."""
    direct, translated = _found_words(
        query.words, query.translations, features.footnote_terms(sentence)
    )
    return direct | translated


def _share(found: frozenset[int], weights: list[float]) -> float:
    """The IDF-weighted share of the question's words that ``found`` holds."""
    total = sum(weights)
    return sum(weights[i] for i in found) / total if total else 0.0


def holds_wanted(query: Query, features: UnitFeatures) -> bool:
    """Whether a sentence holds the kind of answer the question asks for (or it asks for
    none). "Who" is answered by a full name (rag.corpus.text.full_names: "Ирина Соколовская") none
    of whose words the question holds, as written, by name key or translation: "The Carrow
    Valley Diabetes Network surveyed…" names no one for «Кто возглавляет сеть долины
    Карроу?»."""
    if query.wanted is None:
        return True
    if query.wanted is not AnswerType.NAME:
        return query.wanted in features.types
    stems = {stem for stem, _ in query.words}.union(*query.translations)
    keys = {key for _, key in query.words if key}
    return any(
        all(stem not in stems and key not in keys for stem, key in name) for name in features.names
    )


def _passage_names(features: SentenceFeatures, query: Query, row: int) -> frozenset[int]:
    """Which of the question's names a passage holds (by word index)."""
    terms = features.passage_terms(row)
    direct, translated = _found_words(query.words, query.translations, terms)
    return frozenset(i for i in direct | translated if i < len(query.names) and query.names[i])


def _names_only_in(store: IndexStore, query: Query, entry: int, claims: list[int]) -> bool:
    """Whether the question is only names, and the entry holds one its claims' passages don't."""
    if not query.names or not all(query.names):
        return False
    features = SentenceFeatures.of(store)
    held = _passage_names(features, query, entry)
    return bool(held - frozenset().union(*(_passage_names(features, query, r) for r in claims)))


def _passages_to_rank(store: IndexStore, query: Query, hits: list[Hit]) -> list[tuple[int, float]]:
    """(passage row, retrieval score) of the passages whose sentences are ranked.

    An entry of the footnote list (author, title, publisher, URL) is metadata about the
    claims under its footnote, not a claim; its title often paraphrases the question and
    would outrank the sentence that answers. So, unless the question asks about sources, a
    retrieved entry stands for the claims it backs: their passages are ranked in its place
    (a question naming a cited author finds the claim that cites them). A question that is
    nothing but names ("Who is Emil Avdaliani?", «Кто такой …?») asks who or what they are;
    when the entry holds one that none of its claims does (the cited author, whom the claim
    never mentions), the entry is ranked too: it is where the documents say who that is.
    """
    out: dict[int, float] = {}
    for hit in hits:
        record = store.passages[hit.row]
        if record.kind == "footnote" and not query.about_sources:
            rows = store.graph.claim_passages(hit.row)
            if _names_only_in(store, query, hit.row, rows):
                rows = [*rows, hit.row]
        else:
            rows = [hit.row]
        for row in rows:
            out.setdefault(row, hit.score)
    return list(out.items())


@dataclass(frozen=True, slots=True)
class _Reading:
    """How one sentence reads against the question: alone, or together with the sentence
    before it in its paragraph when that one holds words of the question it lacks and it
    holds none that one lacks ("The team bought a new ambulance." "It cost £94,500.": the
    second answers "what was the ambulance's price?" only with the first; read together, it
    scores the mean of their cosines and the words of both, and is quoted from the first on)."""

    start: int  # where the text read starts (the sentence before, when read with it)
    cosine: float  # the sentence's, or the mean of the two
    found: frozenset[int]  # the question's words held, as written or translated
    noted: frozenset[int]  # ... only in the footnote entries cited

    def score(self, terms: QueryTerms, profile: Profile) -> tuple[float, float]:
        """(cosine + lexical bonus, the lexical share) of this reading."""
        noted = self.noted - self.found
        lexical = _share(self.found, terms.findable)
        lexical += profile.noted_weight * _share(noted, terms.findable)
        return self.cosine + profile.lexical_weight * lexical, lexical

    def after(self, before: _Reading) -> _Reading:
        """This sentence read together with ``before``."""
        return _Reading(
            before.start,
            (self.cosine + before.cosine) / 2.0,
            self.found | before.found,
            self.noted | before.noted,
        )


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
    out = []
    passages = _passages_to_rank(store, query, hits)
    # One read of every sentence vector these passages hold (a Qdrant store's retrieve).
    store.sentence_vectors.prefetch(
        row
        for passage, _ in passages
        for row in range(
            store.passages[passage].first_sentence, store.passages[passage].last_sentence
        )
    )
    sentence_features = SentenceFeatures.of(store)
    for row, retrieval in passages:
        record = store.passages[row]
        text = store.docs[record.doc_id].text
        before: _Reading | None = None  # the paragraph's sentence before this one
        before_end = 0
        for sentence, units in store.sentence_groups(row):
            features = sentence_features.unit(sentence)
            _, start, end = (int(x) for x in store.sentence_rows[sentence])
            if before is not None and "\n" in text[before_end:start]:
                before = None  # a new paragraph
            if features.heading and record.kind != "footnote":
                before = None
                continue  # a title names a topic; it answers nothing (an entry is no title)
            direct, translated = _found_words(query.words, query.translations, features.terms)
            alone = _Reading(
                start,
                float(np.max(store.sentence_vectors[units] @ query.vector)),
                direct | translated,
                _noted_words(sentence_features, query, sentence),
            )
            reading, (score, lexical) = alone, alone.score(terms, profile)
            if before is not None and alone.found < before.found:
                joint = alone.after(before)
                joint_score = joint.score(terms, profile)
                if joint_score[0] > score:
                    reading, (score, lexical) = joint, joint_score
            before, before_end = alone, end
            typed = holds_wanted(query, features)
            if not typed and query.wanted in STRICT:
                continue  # "how many" is not answered by a sentence without a figure
            numbered = bool(query.numbers & features.numbers)
            if numbered:
                score += profile.number_weight
            if not typed:
                score -= profile.type_weight
            if record.kind == "source":
                score -= profile.source_penalty
            out.append(
                Candidate(
                    sentence=sentence,
                    passage=row,
                    start=start,
                    end=end,
                    score=score,
                    retrieval=retrieval,
                    coverage=_share(direct, terms.weights),
                    same_language=features.language == query.language,
                    cosine=reading.cosine,
                    lexical=lexical,
                    # a missing name only ranks lower: "who" is often answered by a role
                    # or a description, so it does not count against answering at all
                    typed=typed or query.wanted is AnswerType.NAME,
                    holds_type=typed,
                    numbered=numbered or not query.numbers,
                    words=reading.found | reading.noted,
                    context=reading.start if reading.start != start else None,
                )
            )
    out.sort(key=lambda c: c.score, reverse=True)
    return out
