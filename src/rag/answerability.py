"""Whether the documents answer a question: an explicit decision with a score behind it.

On-topic is not an answer. The best sentence answers only when it carries the question's key
terms (as written, by stem, name key, number or translation), the kind of answer asked for
(a figure, a date), and stands out from the other sentences about the topic; a question
whose words the corpus cannot show at all asks about something it does not hold. These are
the :data:`rag.profile.FEATURES`; a logistic model over them, fitted on the calibration sets
(``rag eval --sweep``, rag.calibration), gives the probability that the sentence answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from rag.profile import FEATURES, AnswerabilityModel
from rag.ranking import Candidate

__all__ = ["Decision", "decide", "features_of"]


@dataclass(frozen=True)
class Decision:
    """The answerability decision for one question, with what it was based on."""

    answer: bool
    probability: float
    features: dict[str, float]


def features_of(
    candidates: list[Candidate], unseen: float, restates: Callable[[Candidate, Candidate], bool]
) -> dict[str, float]:
    """The features of the best of ``candidates`` (sorted best first).

    ``margin``: how far the best scores above the next sentence that is not a restatement of
    it (several sentences about a topic scoring alike: the text talks about it without
    answering). ``unseen``: the share of the question's words no sentence shows.
    """
    best = candidates[0]
    others = (c.score for c in candidates[1:] if not restates(c, best))
    return {
        "cosine": best.cosine,
        "coverage": best.coverage,
        "lexical": best.lexical,
        "same_language": float(best.same_language),
        "margin": best.score - max(others, default=best.score - 0.2),
        "unseen": unseen,
        "typed": float(best.typed),
    }


def probability(model: AnswerabilityModel, features: dict[str, float]) -> float:
    """P(the best sentence answers), by the profile's logistic model."""
    z = model.bias + sum(
        model.weights[name] * (features[name] - model.means[name]) / model.scales[name]
        for name in FEATURES
    )
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def decide(model: AnswerabilityModel, features: dict[str, float] | None) -> Decision:
    """Answer or abstain. No candidate at all means abstain, and so does a question none of
    whose words the corpus shows in any form (as written, by name key or translation): it is
    not about these documents, however close its vector falls."""
    if features is None:
        return Decision(answer=False, probability=0.0, features={})
    p = probability(model, features)
    about_corpus = features["unseen"] < 1.0
    return Decision(answer=about_corpus and p >= model.threshold, probability=p, features=features)
