"""The extractive answerer: quote the sentences that answer, each with its citation.

No LLM: the answer is made of sentences of the documents, verbatim (less the documents' own
footnote markers, which become the citation's footnotes), so it cannot misquote. A sentence's
citation is that sentence alone, with offsets into its document. When a footnote's source
text is in the corpus, the source sentence that best matches the claim is cited too: the
chain claim -> footnote -> source passage. A source sentence that matches the question best
is quoted through the article claim that cites it. Sentences are ranked by rag.answer.ranking.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rag.answer.answerability import Decision, decide, features_of
from rag.answer.ranking import Candidate, QueryTerms, holds_wanted, query_terms, rank_sentences
from rag.answer.sentence_features import SentenceFeatures
from rag.corpus.text import strip_markers
from rag.index.store import IndexStore
from rag.models import Answer, Citation, Passage, marker_text, not_covered_message
from rag.profile import Profile
from rag.query import Query
from rag.retrieval import Hit

__all__ = ["ExtractiveAnswerer", "passage_of"]

# Whether to answer at all is rag.answer.answerability's decision. What is quoted then: the best
# sentence, and one more if it scores nearly as well (profile.keep_within), or if it follows
# on from the quote in its paragraph (within profile.near_chars) with a word of the question
# the quote lacks and scores within profile.continue_within: the encoder ranks the sentence
# that introduces a topic above the one that completes it. A sentence whose cosine with a
# quoted one reaches profile.paraphrase says the same again (the text repeats itself) and is
# skipped. The quotes stay within profile.max_cited_chars, and with the source sentences
# behind them within profile.max_chain_chars.


def passage_of(store: IndexStore, row: int, score: float) -> Passage:
    """The public :class:`Passage` for a passage row of the store."""
    record = store.passages[row]
    doc = store.docs[record.doc_id]
    return Passage(
        doc_id=doc.doc_id,
        title=doc.title,
        text=doc.text[record.start : record.end],
        start=record.start,
        end=record.end,
        footnotes=[store.graph.footnote(doc.doc_id, label) for label in record.labels],
        score=score,
    )


def _overlap(a: Candidate, b: Candidate) -> bool:
    return a.passage == b.passage and a.start < b.end and b.start < a.end


def _leans_on(cand: Candidate, chosen: list[Candidate]) -> bool:
    """Whether ``cand`` ranked by being read with the sentence before it, and that sentence
    is quoted already: what it borrowed is said, and on its own it adds nothing asked for."""
    start = cand.context
    return start is not None and any(
        c.passage == cand.passage and c.start <= start < c.end for c in chosen
    )


def _quoted_size(cand: Candidate) -> int:
    """The characters quoting ``cand`` takes: from the sentence before it, when read with it."""
    return cand.end - (cand.start if cand.context is None else cand.context)


def _span(c: Citation) -> tuple[str, int, int]:
    return (c.doc_id, c.start, c.end)


class ExtractiveAnswerer:
    """Answers by quoting; see the module docstring."""

    def __init__(self, store: IndexStore, profile: Profile) -> None:
        self.store = store
        self.profile = profile

    def decision(self, claims: list[Candidate], terms: QueryTerms) -> Decision:
        """Whether the best of ``claims`` answers the question (rag.answer.answerability)."""
        if not claims:
            return decide(self.profile.answerability, None)
        features = features_of(claims, terms, lambda a, b: self._repeats(a, [b]))
        return decide(self.profile.answerability, features)

    def select(self, candidates: list[Candidate]) -> list[Candidate]:
        """The sentences to quote: the best one, then others that add to it, within a budget.

        A runner-up is quoted when it scores nearly as well as the best, or when it continues
        the best one's paragraph with a word of the question the quote lacks so far ("what
        did he wish" after the sentence naming the message). One that says again what is
        already quoted (a paraphrase elsewhere in the text) is not.
        """
        if not candidates:
            return []
        p = self.profile
        best = candidates[0]
        chosen = [best]
        covered = set(best.words)
        used = _quoted_size(best)
        # A claim raised by its source (often in the question's language) is compared with
        # the sentences after it by its own score: they have no source sentence to raise them.
        floor = (best.score if best.own is None else best.own) - p.continue_within
        completion = None if best.holds_type else self._completion(candidates, best)
        if completion is not None:
            chosen.append(completion)
            covered |= completion.words
            used += _quoted_size(completion)
        for cand in candidates[1:]:
            if len(chosen) >= p.max_sentences or cand.score < floor:
                break
            if self._repeats(cand, chosen) or _leans_on(cand, chosen):
                continue
            size = _quoted_size(cand)
            if used + size > p.max_cited_chars or any(_overlap(cand, c) for c in chosen):
                continue
            close = cand.score >= best.score - p.keep_within
            if close or (cand.words - covered and self._continues(cand, chosen)):
                chosen.append(cand)
                covered |= cand.words
                used += size
        # One read with the sentence before it is quoted from that one on (its size above
        # counted it), unless that one is quoted itself.
        return [
            c if c.context is None or _leans_on(c, chosen) else replace(c, start=c.context)
            for c in chosen
        ]

    def _completion(self, candidates: list[Candidate], best: Candidate) -> Candidate | None:
        """The best-scoring sentence that holds the kind of answer asked for, which the best
        sentence lacks, and continues its paragraph: the text names the topic in one
        sentence and the figure, date or name in the next ("A working group was set up…"
        then "Its head is Viktor Gavrilov"). None when there is none."""
        room = self.profile.max_cited_chars - _quoted_size(best)
        for cand in candidates[1:]:
            size = cand.end - cand.start if _leans_on(cand, [best]) else _quoted_size(cand)
            if not cand.holds_type or size > room or _overlap(cand, best):
                continue
            if self._continues(cand, [best]) and not self._repeats(cand, [best]):
                return cand
        return None

    def _repeats(self, cand: Candidate, chosen: list[Candidate]) -> bool:
        """Whether ``cand`` restates one of ``chosen`` (cosine >= profile.paraphrase)."""
        vectors = self.store.sentence_vectors
        limit = self.profile.paraphrase
        return any(float(vectors[cand.sentence] @ vectors[c.sentence]) >= limit for c in chosen)

    def _continues(self, cand: Candidate, chosen: list[Candidate]) -> bool:
        """Whether ``cand`` is in the same paragraph as a chosen sentence, near it."""
        doc_id = self.store.passages[cand.passage].doc_id
        text = self.store.docs[doc_id].text
        for c in chosen:
            if self.store.passages[c.passage].doc_id != doc_id:
                continue
            gap = text[min(c.end, cand.end) : max(c.start, cand.start)]
            if "\n" not in gap and len(gap) <= self.profile.near_chars:
                return True
        return False

    def answer(self, query: Query, hits: list[Hit]) -> Answer:
        """Quote the best supported sentences, or abstain in the question's language."""
        terms = query_terms(self.store, query)
        ranked = rank_sentences(self.store, query, hits, self.profile, terms)
        claims = self.as_claims(ranked, query)
        decision = self.decision(claims, terms)
        basis = {
            "confidence": round(decision.probability, 4),
            "features": {k: round(v, 4) for k, v in decision.features.items()},
            "profile": self.profile.digest(),
        }
        chosen = self.select(claims) if decision.answer else []
        if not chosen:
            return Answer(text=not_covered_message(query.language), abstained=True, **basis)
        if query.about_sources:
            chosen += [
                e for e in self._entries(chosen[0]) if not any(_overlap(e, c) for c in chosen)
            ]
        citations: list[Citation] = []
        parts: list[str] = []
        for claim in chosen:
            first = self._cite(claim, len(citations) + 1)
            # A source passage already cited for an earlier claim is pointed at again, not
            # quoted twice; another passage of the same source is a citation of its own.
            cited = {_span(c): c for c in citations}
            sources = self._source_citations(claim, query.vector)
            new = [s for s in sources if _span(s) not in cited]
            room = self.profile.max_chain_chars - sum(len(c.text) for c in citations)
            if citations and len(first.text) + sum(len(c.text) for c in new) > room:
                # A further claim whose source passages would overrun the budget is quoted
                # with its footnotes but without them; one that alone overruns it is left out.
                if len(first.text) > room:
                    break
                sources = [s for s in sources if _span(s) in cited]
            markers = [first]
            citations.append(first)
            for source in sources:
                if _span(source) in cited:
                    markers.append(cited[_span(source)])
                else:
                    citations.append(replace(source, marker=len(citations) + 1))
                    markers.append(citations[-1])
            quote = strip_markers(self.store.docs[markers[0].doc_id].text[claim.start : claim.end])
            parts.append(quote + " " + "".join(marker_text(c.marker) for c in markers))
        return Answer(text=" ".join(parts), citations=citations, **basis)

    def as_claims(self, candidates: list[Candidate], query: Query) -> list[Candidate]:
        """``candidates`` with each source sentence replaced by the article sentence citing
        that source (the chain's start), remembering it in ``via``: the answer quotes the
        article, and the source sentence that matched becomes the end of the chain behind it.
        A claim that is a candidate itself scores the better of its own score and its
        source's (``own`` keeps its own). A source no article cites is quoted as it is."""
        is_source = [
            self.store.docs[self.store.passages[c.passage].doc_id].is_source for c in candidates
        ]
        claims = {
            (c.passage, c.start): c for c, src in zip(candidates, is_source, strict=True) if not src
        }
        for cand, src in zip(candidates, is_source, strict=True):
            if not src:
                continue
            claim = self._claim_citing(cand, query) or cand
            key = (claim.passage, claim.start)
            own = claims.get(key)
            if own is None:
                claims[key] = claim
            elif own.via is None:
                claims[key] = replace(
                    own,
                    via=claim.via,
                    own=own.score,
                    score=max(own.score, claim.score),
                )
        return sorted(claims.values(), key=lambda c: c.score, reverse=True)

    def _entries(self, claim: Candidate) -> list[Candidate]:
        """The footnote-list entries of the claim's footnotes, as quotes: "which outlet
        reported…" is answered by the entry naming it (title, publisher, link)."""
        record = self.store.passages[claim.passage]
        if record.kind == "footnote":
            return []
        out = []
        for row in self.store.graph.entries_in(record.doc_id, claim.start, claim.end):
            entry = self.store.passages[row]
            sentence = self.store.sentence_groups(row)[0][0]
            where = {"passage": row, "start": entry.start, "end": entry.end}
            out.append(replace(claim, sentence=sentence, via=None, own=None, context=None, **where))
        return out

    def _claim_citing(self, cand: Candidate, query: Query) -> Candidate | None:
        """The article sentence under the footnote whose source holds ``cand`` that says most
        nearly what ``cand`` says; None when no article cites that source."""
        doc_id = self.store.passages[cand.passage].doc_id
        citing = self.store.graph.citing_sentences(doc_id)
        if not citing:
            return None
        vectors = self.store.sentence_vectors
        rows = np.array([sentence for sentence, _ in citing])
        fit = vectors[rows] @ vectors[cand.sentence]
        sentence, passage = citing[int(np.argmax(fit))]
        _, start, end = (int(x) for x in self.store.sentence_rows[sentence])
        # The quote is the claim and its source behind it: it holds the kind of answer asked
        # for ("when": a date), or a number the question names, if either sentence does.
        features = SentenceFeatures.of(self.store).unit(sentence)
        holds_type = cand.holds_type or holds_wanted(query, features)
        numbered = cand.numbered or bool(query.numbers & features.numbers)
        return replace(
            cand,
            sentence=sentence,
            passage=passage,
            start=start,
            end=end,
            via=cand.sentence,
            context=None,  # the claim is quoted as it is; its source was read in context
            typed=cand.typed or holds_type,
            holds_type=holds_type,
            numbered=numbered,
        )

    def _cite(self, cand: Candidate, marker: int) -> Citation:
        doc_id = self.store.passages[cand.passage].doc_id
        doc = self.store.docs[doc_id]
        return Citation(
            marker=marker,
            doc_id=doc_id,
            title=doc.title,
            text=doc.text[cand.start : cand.end],
            start=cand.start,
            end=cand.end,
            footnotes=self.store.graph.footnotes_in(doc_id, cand.start, cand.end),
            score=cand.retrieval,
        )

    def _source_citations(self, cand: Candidate, query_vector: np.ndarray) -> list[Citation]:
        """For each footnote of the claim whose source is indexed, its best matching sentence
        (the one the claim was found through, ``cand.via``, when it is that source's)."""
        doc_id = self.store.passages[cand.passage].doc_id
        out = []
        for note, source in self.store.graph.sources_in(doc_id, cand.start, cand.end):
            rows = self.store.doc_sentences.get(source.doc_id)
            if rows is None or not len(rows):
                continue
            vectors = self.store.sentence_vectors[rows]
            claim = self.store.sentence_vectors[cand.sentence]
            scores = vectors @ claim + vectors @ query_vector
            via = np.flatnonzero(rows == cand.via)
            pick = int(via[0]) if len(via) else int(np.argmax(scores))
            best = int(rows[pick])
            _, start, end = (int(x) for x in self.store.sentence_rows[best])
            out.append(
                Citation(
                    marker=0,  # numbered by the caller
                    doc_id=source.doc_id,
                    title=source.title,
                    text=source.text[start:end],
                    start=start,
                    end=end,
                    footnotes=[note],
                    score=float(scores[pick]) / 2,
                )
            )
        return out
