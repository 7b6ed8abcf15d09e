"""`rag eval` scoring: each metric counts what it says."""

from __future__ import annotations

from rag.evaluation import marker_errors
from rag.models import Answer, Citation


def _citation(marker: int) -> Citation:
    return Citation(marker=marker, doc_id="d", title="t", text="x", start=0, end=1)


def test_marker_errors_counts_mismatch_between_text_and_citations() -> None:
    assert marker_errors(Answer("a [1] b [2]", [_citation(1), _citation(2)])) == 0
    assert marker_errors(Answer("a [1] b [3]", [_citation(1), _citation(2)])) == 1
    assert marker_errors(Answer("a [1]", [_citation(1), _citation(1)])) == 1
    assert marker_errors(Answer("no markers", [], abstained=True)) == 0
