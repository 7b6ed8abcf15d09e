"""The answerability decision on synthetic features, with the shipped profile."""

from __future__ import annotations

import pytest

from rag.answerability import decide, features_of, probability
from rag.profile import FEATURES, load_profile
from rag.ranking import Candidate

MODEL = load_profile("use-multilingual").answerability

# A sentence that carries the question's key terms and the kind of answer asked for, and
# stands clear of the other sentences.
ANSWER = {
    "cosine": 0.6,
    "coverage": 0.8,
    "lexical": 0.9,
    "same_language": 1.0,
    "margin": 0.3,
    "unseen": 0.0,
    "typed": 1.0,
}


def test_the_features_are_the_profiles() -> None:
    assert set(MODEL.weights) == set(FEATURES) == set(ANSWER)


def test_a_sentence_with_the_focus_and_key_terms_answers() -> None:
    assert decide(MODEL, ANSWER).answer


def test_an_on_topic_sentence_without_the_key_terms_does_not() -> None:
    """It shares the topic (a middling cosine) but not the words asked about, and several
    sentences score alike."""
    on_topic = {**ANSWER, "cosine": 0.3, "coverage": 0.0, "lexical": 0.1, "margin": 0.0}
    assert not decide(MODEL, on_topic).answer


@pytest.mark.parametrize("name", ["cosine", "coverage", "lexical", "margin", "typed"])
def test_more_of_a_feature_for_the_answer_never_lowers_the_probability(name: str) -> None:
    less = {**ANSWER, name: ANSWER[name] * 0.5}
    assert probability(MODEL, less) <= probability(MODEL, ANSWER)


def test_a_sentence_lacking_the_kind_of_answer_asked_for_scores_lower() -> None:
    assert probability(MODEL, {**ANSWER, "typed": 0.0}) < probability(MODEL, ANSWER)


def test_a_question_whose_words_the_corpus_never_shows_is_not_answered() -> None:
    decision = decide(MODEL, {**ANSWER, "unseen": 1.0})
    assert not decision.answer and decision.features["unseen"] == 1.0


def test_no_candidate_means_abstain() -> None:
    assert not decide(MODEL, None).answer


def _cand(sentence: int, score: float) -> Candidate:
    return Candidate(
        sentence=sentence,
        passage=0,
        start=0,
        end=1,
        score=score,
        retrieval=score,
        coverage=0.5,
        same_language=True,
        cosine=score,
    )


def test_margin_skips_restatements_of_the_best_sentence() -> None:
    best, restated, rival = (
        _cand(
            0,
            0.9,
        ),
        _cand(1, 0.89),
        _cand(2, 0.6),
    )
    features = features_of([best, restated, rival], 0.0, lambda a, b: a.sentence == 1)
    assert features["margin"] == pytest.approx(0.3)
