"""Whether the documents answer a question: an explicit decision with a score behind it.

On-topic is not an answer. The best sentence answers only when it carries the question's key
terms (as written, by stem, name key, number or translation), the names it asks about
(who or what: "the next president of **Georgia**"), the kind of answer asked for (a figure,
a date) and the numbers it names (the year asked about), and stands out from the
other sentences about the topic; a question whose words the corpus cannot show at all asks
about something it does not hold. These are
the :data:`rag.profile.FEATURES`; a logistic model over them, fitted on the calibration sets
(``rag eval --sweep``, rag.calibration), gives the probability that the sentence answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from rag.answer.ranking import Candidate, QueryTerms
from rag.profile import AnswerabilityModel

__all__ = ["Decision", "carries_key_terms", "decide", "features_of"]


@dataclass(frozen=True)
class Decision:
    """The answerability decision for one question, with what it was based on."""

    answer: bool
    probability: float
    features: dict[str, float]


def features_of(
    candidates: list[Candidate], terms: QueryTerms, restates: Callable[[Candidate, Candidate], bool]
) -> dict[str, float]:
    """The features of the best of ``candidates`` (sorted best first).

    ``margin``: how far the best scores above the next sentence that is not a restatement of
    it (several sentences about a topic scoring alike: the text talks about it without
    answering). ``unseen``: the share of the question's words no sentence shows;
    ``unknown_name``: whether a name it asks about ("Uniper") is nowhere in the corpus;
    ``names``: the weighted share of the question's names that the corpus shows and the best
    sentence holds (itself, or through the footnote it cites: a cited author), 1 with none.
    """
    best = candidates[0]
    others = (c.score for c in candidates[1:] if not restates(c, best))
    return {
        "cosine": best.cosine,
        "coverage": best.coverage,
        "lexical": best.lexical,
        "same_language": float(best.same_language),
        "margin": best.score - max(others, default=best.score - 0.2),
        "unseen": terms.unseen,
        "typed": float(best.typed),
        "numbers": float(best.numbered),
        "unknown_name": float(terms.unknown_name),
        "names": _names_carried(best, terms),
    }


def _names_carried(best: Candidate, terms: QueryTerms) -> float:
    """The IDF-weighted share of the question's findable names that ``best`` holds."""
    named = [i for i, name in enumerate(terms.names) if name and terms.findable[i] > 0]
    total = sum(terms.findable[i] for i in named)
    return sum(terms.findable[i] for i in named if i in best.words) / total if total else 1.0


def probability(model: AnswerabilityModel, features: dict[str, float]) -> float:
    """P(the best sentence answers), by the profile's logistic model (over the features it
    was fitted on: one swept before a feature was added ignores it)."""
    z = model.bias + sum(
        weight * (features[name] - model.means[name]) / model.scales[name]
        for name, weight in model.weights.items()
    )
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def carries_key_terms(features: dict[str, float]) -> bool:
    """Whether the best sentence holds at least one of the question's words that the corpus
    shows (as written, by stem, name key or translation). One that holds none is at most on
    topic, and on-topic is not an answer; nor is any sentence an answer to a question none of
    whose words the corpus shows in any form: it is not about these documents, however close
    its vector falls."""
    return features["lexical"] > 0.0 and features["unseen"] < 1.0


def decide(model: AnswerabilityModel, features: dict[str, float] | None) -> Decision:
    """Answer or abstain: answer when the best sentence carries the question's key terms
    (:func:`carries_key_terms`) and the profile's model gives it at least its threshold.
    No candidate at all means abstain."""
    if features is None:
        return Decision(answer=False, probability=0.0, features={})
    p = probability(model, features)
    answer = carries_key_terms(features) and p >= model.threshold
    return Decision(answer=answer, probability=p, features=features)
