"""Which sentences the extractive answerer quotes once it has ranked them."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np

from rag.answer.extractive import ExtractiveAnswerer
from rag.answer.ranking import Candidate
from rag.profile import load_profile

TEXT = (
    "The president sent a birthday message to his colleague. "
    "It praised the growth of trade. "
    "He wished him health and success.\n"
    "The president congratulated his colleague on his birthday by telephone."
)
SENTENCES = [s + "." for s in TEXT.replace(".\n", ". ").split(". ")]
SENTENCES[-1] = SENTENCES[-1].rstrip(".")
# Unit vectors: 0 and 3 are paraphrases (cosine 0.8); the rest are unrelated.
VECTORS = np.array(
    [[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0], [0.8, 0, 0, 0.6]], dtype=np.float32
)


def _answerer() -> ExtractiveAnswerer:
    store = SimpleNamespace(
        sentence_vectors=VECTORS,
        passages=[SimpleNamespace(doc_id="a")],
        docs={"a": SimpleNamespace(text=TEXT)},
    )
    return ExtractiveAnswerer(store, load_profile("use-multilingual"))  # type: ignore[arg-type]


def _cand(row: int, score: float, words: set[int], *, same_language: bool = True) -> Candidate:
    start = TEXT.index(SENTENCES[row])
    return Candidate(
        sentence=row,
        passage=0,
        start=start,
        end=start + len(SENTENCES[row]),
        score=score,
        retrieval=score,
        coverage=1.0,
        same_language=same_language,
        cosine=score,
        words=frozenset(words),
    )


def test_a_paraphrase_of_the_quote_is_not_quoted_again() -> None:
    best, paraphrase = _cand(0, 0.9, {0, 1}), _cand(3, 0.88, {0, 1})
    assert _answerer().select([best, paraphrase]) == [best]


def test_a_close_runner_up_is_quoted() -> None:
    best, runner_up = _cand(0, 0.9, {0}), _cand(1, 0.86, {0})
    assert _answerer().select([best, runner_up]) == [best, runner_up]


def test_the_sentence_completing_the_quote_is_quoted_though_it_ranks_lower() -> None:
    best, completes = _cand(0, 0.9, {0, 1}), _cand(2, 0.65, {0, 2})
    assert _answerer().select([best, completes]) == [best, completes]


def test_a_lower_sentence_adding_no_word_of_the_question_is_not_quoted() -> None:
    best, adds_nothing = _cand(0, 0.9, {0, 1}), _cand(2, 0.65, {1})
    assert _answerer().select([best, adds_nothing]) == [best]


def test_a_lower_sentence_in_another_paragraph_is_not_quoted() -> None:
    best, elsewhere = _cand(2, 0.9, {0}), _cand(3, 0.65, {1})
    assert _answerer().select([best, elsewhere]) == [best]


def test_far_lower_sentences_are_not_quoted() -> None:
    best, far = _cand(0, 0.9, {0}), _cand(1, 0.5, {1})
    assert _answerer().select([best, far]) == [best]


def test_in_one_language_a_close_runner_up_is_quoted_too() -> None:
    best, rival = _cand(0, 0.9, {0}), _cand(1, 0.88, {0})
    assert _answerer().select([best, rival]) == [best, rival]


def test_a_neighbour_holding_the_kind_of_answer_the_best_lacks_is_quoted() -> None:
    # "Who heads the group?": the best sentence names the group, the next one in its
    # paragraph names its head, however far below it ranks.
    best = replace(_cand(0, 0.9, {0}), holds_type=False)
    head, elsewhere = _cand(1, 0.3, {1}), _cand(3, 0.85, {0})
    assert _answerer().select([best, elsewhere, head])[:2] == [best, head]


def test_no_neighbour_is_added_for_the_kind_of_answer_when_the_best_holds_it() -> None:
    best, lower = _cand(0, 0.9, {0}), _cand(1, 0.3, {1})
    assert _answerer().select([best, lower]) == [best]


def test_a_neighbour_lacking_the_kind_of_answer_too_is_not_added_for_it() -> None:
    best = replace(_cand(0, 0.9, {0}), holds_type=False)
    lower = replace(_cand(1, 0.3, {1}), holds_type=False)
    assert _answerer().select([best, lower]) == [best]


def test_a_sentence_read_with_the_quote_before_it_adds_nothing_once_that_is_quoted() -> None:
    # Sentence 1 ranked on the words of sentence 0 (read with it); 0 is the quote already.
    best = _cand(0, 0.9, {0})
    leaning = replace(_cand(1, 0.88, {0, 1}), context=best.start)
    assert _answerer().select([best, leaning]) == [best]


def test_a_sentence_read_with_the_one_before_is_quoted_from_that_one_on() -> None:
    best = replace(_cand(1, 0.9, {0, 1}), context=_cand(0, 0.5, set()).start)
    (quoted,) = _answerer().select([best])
    assert TEXT[quoted.start : quoted.end].startswith(SENTENCES[0])
    assert TEXT[quoted.start : quoted.end].endswith(SENTENCES[1])
