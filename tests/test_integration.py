"""End to end with the real multilingual embedder: the article indexed once, the dev questions."""

from __future__ import annotations

import time
from statistics import mean
from typing import TYPE_CHECKING, Any

import pytest

import rag
from rag.corpus.text import strip_markers

if TYPE_CHECKING:
    from conftest import AnswerCheck

pytestmark = pytest.mark.integration

BOILERPLATE = ("Paylaş", "Эта статья также доступна", "Похожие материалы")


@pytest.fixture(scope="module")
def dev_answers(
    real_assistant: rag.Assistant, dev_set: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], rag.Answer]]:
    return [(row, real_assistant.query(row["question"])) for row in dev_set]


def test_index_of_the_article(real_assistant: rag.Assistant) -> None:
    store = real_assistant.store()
    manifest = store.manifest
    assert manifest["embedder"] == "use-multilingual" and manifest["dim"] == 512
    assert manifest["counts"]["documents"] == 1
    assert manifest["counts"]["footnotes"] == 6
    notes = {f.label: f.url for f in real_assistant.footnotes()}
    assert list(notes) == ["i", "ii", "iii", "iv", "v", "vi"]
    assert all(url.startswith("https://") for url in notes.values())
    text = store.docs["article"].text
    for passage in store.passages:
        shown = text[passage.start : passage.end]
        assert not any(b in shown for b in BOILERPLATE), shown
    assert real_assistant.build_index().embedded == 0


def test_every_dev_answer_keeps_the_contract(
    real_assistant: rag.Assistant,
    dev_answers: list[tuple[dict[str, Any], rag.Answer]],
    check_answer: AnswerCheck,
) -> None:
    for row, answer in dev_answers:
        check_answer(answer, real_assistant)
        if not answer.abstained:
            quoted = [strip_markers(c.text) for c in answer.citations]
            assert any(q in answer.text for q in quoted), row["id"]


def test_answerable_dev_questions_are_answered(
    dev_answers: list[tuple[dict[str, Any], rag.Answer]],
) -> None:
    answerable = [(row, a) for row, a in dev_answers if row["answerable"]]
    false_abstentions = [row["id"] for row, a in answerable if a.abstained]
    assert len(false_abstentions) <= len(answerable) // 15, false_abstentions


def test_required_footnotes_are_cited(dev_answers: list[tuple[dict[str, Any], rag.Answer]]) -> None:
    required = [(row, label) for row, _ in dev_answers for label in row["footnotes"]]
    cited = {
        row["id"]: {f.label for c in answer.citations for f in c.footnotes}
        for row, answer in dev_answers
    }
    missing = [(row["id"], label) for row, label in required if label not in cited[row["id"]]]
    assert len(missing) <= 0.05 * len(required), missing


def test_citations_stay_short(dev_answers: list[tuple[dict[str, Any], rag.Answer]]) -> None:
    cited = [sum(len(c.text) for c in a.citations) for _, a in dev_answers if not a.abstained]
    assert mean(cited) <= 500


def test_some_unanswerable_dev_questions_abstain(
    dev_answers: list[tuple[dict[str, Any], rag.Answer]],
) -> None:
    """A floor, at what the shipped profile measures (1 of the 3); abstention over all the
    calibration and frozen sets is held by tests/test_heldout.py and reported in the README."""
    unanswerable = [a for row, a in dev_answers if not row["answerable"]]
    assert sum(a.abstained for a in unanswerable) >= 1


def test_dev_evidence_hit_meets_the_target(
    dev_answers: list[tuple[dict[str, Any], rag.Answer]],
) -> None:
    answerable = [(row, a) for row, a in dev_answers if row["answerable"]]
    misses = [
        row["id"]
        for row, answer in answerable
        if not any(e in c.text for c in answer.citations for e in row["evidence"])
    ]
    assert 1 - len(misses) / len(answerable) >= 0.95, misses


def test_dev_keywords_are_in_the_answers(
    dev_answers: list[tuple[dict[str, Any], rag.Answer]],
) -> None:
    groups = [
        (row["id"], group, answer)
        for row, answer in dev_answers
        if row["answerable"]
        for group in row["keywords"]
    ]
    missed = []
    for row_id, group, answer in groups:
        seen = " ".join([answer.text, *(c.text for c in answer.citations)]).lower()
        if not any(word.lower() in seen for word in group):
            missed.append((row_id, group[0]))
    assert 1 - len(missed) / len(groups) >= 0.85, missed


def test_stream_yields_text_then_the_same_answer(real_assistant: rag.Assistant) -> None:
    question = "Кто такой Рашад Набиев?"
    items = list(real_assistant.stream(question))
    assert isinstance(items[-1], rag.Answer)
    assert all(isinstance(item, str) for item in items[:-1])
    assert "".join(items[:-1]) == items[-1].text
    assert items[-1] == real_assistant.query(question)


def test_warm_query_is_fast(real_assistant: rag.Assistant) -> None:
    question = "What did the Kremlin press service say both sides confirmed?"
    real_assistant.query(question)
    started = time.perf_counter()
    for _ in range(5):
        real_assistant.query(question)
    # The target is a few ms; this bound only catches an accidental rebuild or model reload.
    assert (time.perf_counter() - started) / 5 < 0.5
