"""The answerability decision on synthetic features, with the shipped profile."""

from __future__ import annotations

import pytest

from rag.answer.answerability import decide, features_of, probability
from rag.answer.ranking import Candidate, QueryTerms
from rag.calibration import Sample, fit
from rag.profile import FEATURES, load_profile

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
    "numbers": 1.0,
    "unknown_name": 0.0,
    "names": 1.0,
}


def test_the_features_are_the_profiles() -> None:
    assert set(MODEL.weights) == set(FEATURES) == set(ANSWER)


def test_a_sentence_with_the_focus_and_key_terms_answers() -> None:
    assert decide(MODEL, ANSWER).answer


def test_an_on_topic_sentence_without_the_key_terms_does_not() -> None:
    """It shares the topic (a middling cosine) but not the words asked about, and several
    sentences score alike."""
    on_topic = {**ANSWER, "cosine": 0.3, "coverage": 0.0, "lexical": 0.0, "margin": 0.0}
    assert not decide(MODEL, on_topic).answer


@pytest.mark.parametrize("cosine", [0.3, 0.6, 0.9])
def test_a_sentence_with_none_of_the_key_terms_never_answers(cosine: float) -> None:
    """However close its vector and however clear of the others: the key terms decide."""
    close = {**ANSWER, "cosine": cosine, "coverage": 0.0, "lexical": 0.0, "margin": 0.5}
    decision = decide(MODEL, close)
    assert not decision.answer
    assert decide(MODEL, {**close, "lexical": 0.9, "coverage": 0.8}).answer


def test_the_fit_leaves_out_what_the_key_terms_rule_decides() -> None:
    """Samples without the key terms are refused by the rule; fitting on them would teach
    the model nothing it needs, and they must not move its weights."""
    samples = [_sample(True, lexical=0.8 + 0.01 * i) for i in range(10)]
    samples += [_sample(False, lexical=0.3 + 0.01 * i) for i in range(10)]
    gated = [_sample(True, lexical=0.0, cosine=0.1 * i) for i in range(10)]
    assert fit(samples) == fit(samples + gated)


@pytest.mark.parametrize("name", ["cosine", "coverage", "lexical", "margin", "typed", "numbers"])
def test_more_of_a_feature_for_the_answer_never_lowers_the_probability(name: str) -> None:
    less = {**ANSWER, name: ANSWER[name] * 0.5}
    assert probability(MODEL, less) <= probability(MODEL, ANSWER)


def test_a_sentence_lacking_the_kind_of_answer_asked_for_scores_lower() -> None:
    assert probability(MODEL, {**ANSWER, "typed": 0.0}) < probability(MODEL, ANSWER)


def test_a_sentence_without_the_number_the_question_names_scores_lower() -> None:
    """ "How much gas in 2024?" against a sentence about 2028: a near miss."""
    assert probability(MODEL, {**ANSWER, "numbers": 0.0}) < probability(MODEL, ANSWER)


def test_more_unseen_question_words_never_raise_the_probability() -> None:
    assert probability(MODEL, {**ANSWER, "unseen": 0.5}) <= probability(MODEL, ANSWER)


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
    terms = QueryTerms([1.0], [1.0])
    features = features_of([best, restated, rival], terms, lambda a, b: a.sentence == 1)
    assert features["margin"] == pytest.approx(0.3)


def _sample(answerable: bool, **features: float) -> Sample:
    return Sample("synthetic", "q", {**ANSWER, **features}, answerable)


def test_the_fit_learns_the_focus_and_holds_weights_to_their_signs() -> None:
    """Answerable questions have the terms, unanswerable ones lack them; in this small set
    the unanswerable ones also happen to have fewer unseen words, a quirk the model must
    not learn (unseen words may only count against an answer)."""
    samples = [_sample(True, lexical=0.8 + 0.01 * i, unseen=0.4) for i in range(10)]
    samples += [_sample(False, lexical=0.2 + 0.01 * i, unseen=0.0) for i in range(10)]
    model = fit(samples)
    assert model.weights["lexical"] > 0
    assert model.weights["unseen"] <= 0
    assert decide(model, {**ANSWER, "lexical": 0.85, "unseen": 0.0}).answer
    assert not decide(model, {**ANSWER, "lexical": 0.2, "unseen": 0.0}).answer


def _holding(words: frozenset[int]) -> Candidate:
    return Candidate(
        sentence=0,
        passage=0,
        start=0,
        end=1,
        score=0.5,
        retrieval=0.5,
        coverage=0.5,
        same_language=True,
        cosine=0.5,
        words=words,
    )


def test_names_is_the_share_of_the_questions_findable_names_the_sentence_holds() -> None:
    """ "Who will be the next president of Georgia?": a sentence about a president that does
    not name Georgia lacks the name asked about; a name the corpus never shows, or a
    question naming nothing, does not count against it."""
    terms = QueryTerms([1.0, 1.0, 3.0], [1.0, 1.0, 3.0], names=(False, False, True))
    lacking = features_of([_holding(frozenset({0, 1}))], terms, lambda a, b: False)
    holding = features_of([_holding(frozenset({2}))], terms, lambda a, b: False)
    assert lacking["names"] == 0.0 and holding["names"] == 1.0
    unseen_name = QueryTerms([1.0, 3.0], [1.0, 0.0], names=(False, True))
    assert features_of([_holding(frozenset({0}))], unseen_name, lambda a, b: False)["names"] == 1
    no_names = QueryTerms([1.0, 1.0], [1.0, 1.0])
    assert features_of([_holding(frozenset())], no_names, lambda a, b: False)["names"] == 1.0


def test_a_sentence_lacking_the_name_asked_about_scores_lower() -> None:
    assert probability(MODEL, {**ANSWER, "names": 0.0}) <= probability(MODEL, ANSWER)
