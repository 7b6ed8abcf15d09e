"""`rag eval` scoring: each metric counts what it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import RagError
from rag.evaluation import EvalReport, load_eval_set, marker_errors
from rag.models import Answer, Citation


def _citation(marker: int) -> Citation:
    return Citation(marker=marker, doc_id="d", title="t", text="x", start=0, end=1)


def test_marker_errors_counts_mismatch_between_text_and_citations() -> None:
    assert marker_errors(Answer("a [1] b [2]", [_citation(1), _citation(2)])) == 0
    assert marker_errors(Answer("a [1] b [3]", [_citation(1), _citation(2)])) == 1
    assert marker_errors(Answer("a [1]", [_citation(1), _citation(1)])) == 1
    assert marker_errors(Answer("no markers", [], abstained=True)) == 0


def _detail(**overrides: object) -> dict[str, object]:
    detail: dict[str, object] = {
        "id": "q",
        "answerable": True,
        "abstained": False,
        "evidence_hit": True,
        "footnote_recall": 1.0,
        "keywords": True,
        "marker_errors": 0,
        "offset_errors": 0,
    }
    return detail | overrides


def _report(details: list[dict[str, object]]) -> EvalReport:
    return EvalReport(len(details), 1, 1, 1, 1, 0, 100, 0, 0, 1, 2, details=details)


def test_the_table_names_each_missed_question_and_what_went_wrong() -> None:
    table = _report(
        [
            _detail(id="fine"),
            _detail(id="q2", evidence_hit=False, footnote_recall=0.5),
            _detail(id="q3", answerable=False),
            _detail(id="q4", abstained=True),
            _detail(id="q5", answerable=False, abstained=True),
        ]
    ).table()
    missed = table.split("missed:\n")[1].splitlines()
    assert missed == [
        "  q2: evidence not cited, footnote missing",
        "  q3: answered, should abstain",
        "  q4: abstained, should answer",
    ]


def test_a_table_without_misses_has_no_missed_section() -> None:
    assert "missed" not in _report([_detail()]).table()


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ('{"id": "a", "question": "q", "answerable": "yes"}', "'answerable' must be"),
        ('{"id": "a", "question": "q", "answerable": true, "evidence": "x"}', "'evidence'"),
        ('{"id": "a", "question": "", "answerable": false}', "'question' must be"),
        ('{"id": "a", "question": "q", "answerable": true, "keywords": ["a"]}', "'keywords'"),
        ('["not", "an", "object"]', "JSON object"),
        ('{"question": "q", "answerable": true}', "id"),
    ],
)
def test_a_malformed_question_line_is_named_with_what_is_wrong(
    tmp_path: Path, line: str, complaint: str
) -> None:
    data = tmp_path / "set.jsonl"
    data.write_text('{"id": "ok", "question": "q", "answerable": false}\n' + line + "\n", "utf-8")
    with pytest.raises(RagError, match=r"set\.jsonl:2: ") as caught:
        load_eval_set(data)
    assert complaint in str(caught.value)
