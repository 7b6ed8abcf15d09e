"""The extractive answerer: quote the sentences that answer, each with its citation.

No LLM: the answer is made of sentences of the documents, verbatim (less the documents' own
footnote markers, which become the citation's footnotes), so it cannot misquote. A sentence's
citation is that sentence alone, with offsets into its document. When a footnote's source
text is in the corpus, the source sentence that best matches the claim is cited too: the
chain claim -> footnote -> source passage. A source sentence that matches the question best
is quoted through the article claim that cites it. Sentences are ranked by rag.ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from rag.models import Answer, Citation, Footnote, Passage
from rag.ranking import Candidate, rank_sentences
from rag.retrieval import Hit
from rag.store import IndexStore
from rag.text import asks_about_sources, detect_language, not_covered_message, strip_markers

__all__ = ["ABSTAIN_BELOW", "ExtractiveAnswerer", "passage_of"]

# When to abstain: when the best sentence's support (rag.ranking) is under a threshold. Chosen
# with the use-multilingual embedder on shared/eval/dev.jsonl and the held-out sets in
# tests/data/heldout*/ (134 questions, 23 of them unanswerable, written without looking at
# the answers), as two plain thresholds at the widest gap, not a fitted model:
# * same language (question and sentence): SAME_LANGUAGE_SUPPORT. Answerable questions' best
#   sentences scored 0.40-1.00 (four at 0.23-0.32, missed); unanswerable ones 0.01-0.38
#   (the topic's name found but not the ask: "Кто будет следующим президентом Грузии?"),
#   one at 0.48.
# * across languages (an English or Turkish question, a Russian text, or the reverse): words
#   barely match and the encoder's cross-language cosines are low, so ABSTAIN_BELOW is
#   lower. Answerable questions scored 0.29-0.81 (eleven at 0.06-0.27, missed); unanswerable
#   ones 0.20-0.26, and seven at 0.37-0.54 (a ship, a minister, a city the text does not
#   name): the encoder cannot tell these from answers.
# Questions asking for a figure or a sum first lose the sentences without one
# (rag.answer_types), which is what abstains on "how much did it cost?" when no cost is given.
ABSTAIN_BELOW = 0.28
SAME_LANGUAGE_SUPPORT = 0.39
# Across languages the best sentence must also stand out: beat the next one that is not a
# restatement of it (cosine < PARAPHRASE) by STAND_OUT. A question the text does not answer
# finds several sentences about its topic scoring alike; an answer usually stands clear. On
# the same 134 questions this made 4 more of the 23 unanswerable ones abstain (a minister,
# a city, an official the text does not name) and cost 1 of 111 answerable ones.
STAND_OUT = 0.05

# What is quoted: the best sentence, and one more if it scores nearly as well (KEEP_WITHIN),
# or if it follows on from the quote in its paragraph (within NEAR_CHARS) with a word of the
# question the quote lacks and scores within CONTINUE_WITHIN: the encoder ranks the sentence
# that introduces a topic above the one that completes it. A sentence whose cosine with a
# quoted one reaches PARAPHRASE says the same again (the text repeats itself) and is skipped.
KEEP_WITHIN = 0.08
CONTINUE_WITHIN = 0.3
NEAR_CHARS = 400
PARAPHRASE = 0.7
MAX_SENTENCES = 2
MAX_CITED_CHARS = 500  # the article's sentences an answer quotes
MAX_CHAIN_CHARS = 700  # with the source sentences behind them; the first claim always stays


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
        footnotes=[doc.footnote(label) for label in record.labels],
        score=score,
    )


def _overlap(a: Candidate, b: Candidate) -> bool:
    return a.passage == b.passage and a.start < b.end and b.start < a.end


def _span(c: Citation) -> tuple[str, int, int]:
    return (c.doc_id, c.start, c.end)


class ExtractiveAnswerer:
    """Answers by quoting; see the module docstring."""

    def __init__(self, store: IndexStore) -> None:
        self.store = store

    @staticmethod
    def supported(cand: Candidate) -> bool:
        """Whether the best sentence answers enough of the question to be quoted."""
        if cand.same_language:
            return cand.support >= SAME_LANGUAGE_SUPPORT
        return cand.support >= ABSTAIN_BELOW

    def select(self, candidates: list[Candidate]) -> list[Candidate]:
        """The sentences to quote: the best one, then others that add to it, within a budget.

        A runner-up is quoted when it scores nearly as well as the best, or when it continues
        the best one's paragraph with a word of the question the quote lacks so far ("what
        did he wish" after the sentence naming the message). One that says again what is
        already quoted (a paraphrase elsewhere in the text) is not.
        """
        if not candidates or not self.supported(candidates[0]) or not self._stands_out(candidates):
            return []
        best = candidates[0]
        chosen = [best]
        covered = set(best.words)
        used = best.end - best.start
        # A claim raised by its source (often in the question's language) is compared with
        # the sentences after it by its own score: they have no source sentence to raise them.
        floor = (best.score if best.own is None else best.own) - CONTINUE_WITHIN
        for cand in candidates[1:]:
            if len(chosen) >= MAX_SENTENCES or cand.score < floor:
                break
            size = cand.end - cand.start
            if used + size > MAX_CITED_CHARS or any(_overlap(cand, c) for c in chosen):
                continue
            if self._repeats(cand, chosen):
                continue
            close = cand.score >= best.score - KEEP_WITHIN
            if close or (cand.words - covered and self._continues(cand, chosen)):
                chosen.append(cand)
                covered |= cand.words
                used += size
        return chosen

    def _stands_out(self, candidates: list[Candidate]) -> bool:
        """Across languages, whether the best sentence beats the next one (not counting
        restatements of it) by STAND_OUT: see the comment there."""
        best = candidates[0]
        if best.same_language:
            return True
        others = (c.score for c in candidates[1:] if not self._repeats(c, [best]))
        return best.score - max(others, default=0.0) >= STAND_OUT

    def _repeats(self, cand: Candidate, chosen: list[Candidate]) -> bool:
        """Whether ``cand`` restates one of ``chosen`` (cosine >= PARAPHRASE)."""
        vectors = self.store.sentence_vectors
        return any(
            float(vectors[cand.sentence] @ vectors[c.sentence]) >= PARAPHRASE for c in chosen
        )

    def _continues(self, cand: Candidate, chosen: list[Candidate]) -> bool:
        """Whether ``cand`` is in the same paragraph as a chosen sentence, near it."""
        doc_id = self.store.passages[cand.passage].doc_id
        text = self.store.docs[doc_id].text
        for c in chosen:
            if self.store.passages[c.passage].doc_id != doc_id:
                continue
            gap = text[min(c.end, cand.end) : max(c.start, cand.start)]
            if "\n" not in gap and len(gap) <= NEAR_CHARS:
                return True
        return False

    def answer(
        self,
        question: str,
        query_vector: np.ndarray,
        hits: list[Hit],
        translations: Sequence[frozenset[str]] = (),
    ) -> Answer:
        """Quote the best supported sentences, or abstain in the question's language.

        ``translations``: for each content word of the question, the stems of corpus words
        that stand for it in the other script (see :mod:`rag.lexicon`).
        """
        candidates = rank_sentences(self.store, question, query_vector, hits, translations)
        chosen = self.select(self.as_claims(candidates))
        if not chosen:
            return Answer(text=not_covered_message(detect_language(question)), abstained=True)
        if asks_about_sources(question):
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
            sources = self._source_citations(claim, query_vector)
            new = [s for s in sources if _span(s) not in cited]
            room = MAX_CHAIN_CHARS - sum(len(c.text) for c in citations)
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
            parts.append(quote + " " + "".join(f"[{c.marker}]" for c in markers))
        return Answer(text=" ".join(parts), citations=citations)

    def as_claims(self, candidates: list[Candidate]) -> list[Candidate]:
        """``candidates`` with each source sentence replaced by the article sentence citing
        that source (the chain's start), remembering it in ``via``: the answer quotes the
        article, and the source sentence that matched becomes the end of the chain behind it.
        A claim that is a candidate itself scores the better of its own score and its
        source's (``own`` keeps its own). A source no article cites is quoted as it is."""
        is_source = [
            self.store.docs[self.store.passages[c.passage].doc_id].source_label is not None
            for c in candidates
        ]
        claims = {
            (c.passage, c.start): c for c, src in zip(candidates, is_source, strict=True) if not src
        }
        for cand, src in zip(candidates, is_source, strict=True):
            if not src:
                continue
            claim = self._claim_citing(cand) or cand
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
                    support=max(own.support, claim.support),
                )
        return sorted(claims.values(), key=lambda c: c.score, reverse=True)

    def _entries(self, claim: Candidate) -> list[Candidate]:
        """The footnote-list entries of the claim's footnotes, as quotes: "which outlet
        reported…" is answered by the entry naming it (title, publisher, link)."""
        record = self.store.passages[claim.passage]
        if record.kind == "footnote":
            return []
        entries = self.store.entry_rows(record.doc_id)
        out = []
        for label in self.store.docs[record.doc_id].labels_in(claim.start, claim.end):
            row = entries.get(label)
            if row is not None:
                entry = self.store.passages[row]
                sentence = self.store.sentence_groups(row)[0][0]
                where = {"passage": row, "start": entry.start, "end": entry.end}
                out.append(replace(claim, sentence=sentence, via=None, own=None, **where))
        return out

    def _claim_citing(self, cand: Candidate) -> Candidate | None:
        """The article sentence under the footnote whose source holds ``cand`` that says most
        nearly what ``cand`` says; None when no article cites that source."""
        doc_id = self.store.passages[cand.passage].doc_id
        citing = self.store.citing_sentences(doc_id)
        if not citing:
            return None
        vectors = self.store.sentence_vectors
        rows = np.array([sentence for sentence, _ in citing])
        fit = vectors[rows] @ vectors[cand.sentence]
        sentence, passage = citing[int(np.argmax(fit))]
        _, start, end = (int(x) for x in self.store.sentence_rows[sentence])
        return replace(
            cand, sentence=sentence, passage=passage, start=start, end=end, via=cand.sentence
        )

    def _footnotes(self, doc_id: str, start: int, end: int) -> list[Footnote]:
        doc = self.store.docs[doc_id]
        return [doc.footnote(label) for label in doc.labels_in(start, end)]

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
            footnotes=self._footnotes(doc_id, cand.start, cand.end),
            score=cand.retrieval,
        )

    def _source_citations(self, cand: Candidate, query_vector: np.ndarray) -> list[Citation]:
        """For each footnote of the claim whose source is indexed, its best matching sentence
        (the one the claim was found through, ``cand.via``, when it is that source's)."""
        doc_id = self.store.passages[cand.passage].doc_id
        if self.store.docs[doc_id].source_label is not None:
            return []
        out = []
        for note in self._footnotes(doc_id, cand.start, cand.end):
            rows = self.store.doc_sentences.get(note.source_doc_id or "")
            if rows is None or not len(rows):
                continue
            vectors = self.store.sentence_vectors[rows]
            claim = self.store.sentence_vectors[cand.sentence]
            scores = vectors @ claim + vectors @ query_vector
            via = np.flatnonzero(rows == cand.via)
            pick = int(via[0]) if len(via) else int(np.argmax(scores))
            best = int(rows[pick])
            _, start, end = (int(x) for x in self.store.sentence_rows[best])
            source = self.store.docs[note.source_doc_id or ""]
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
