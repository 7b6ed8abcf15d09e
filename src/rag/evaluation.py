"""``rag eval``: score the assistant on a JSONL question set.

Each line: ``{"id", "lang", "question", "answerable", "evidence": [str], "footnotes": [label],
"keywords": [[alternatives], ...]}`` (the format of ``tests/data/dev.jsonl``).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.answer.verification import markers_consistent
from rag.assistant import Assistant
from rag.errors import RagError
from rag.models import Answer

__all__ = [
    "METRIC_NAMES",
    "EvalItem",
    "EvalReport",
    "evaluate",
    "load_eval_set",
    "marker_errors",
    "report_of",
]


@dataclass(frozen=True)
class EvalItem:
    """One question of an evaluation set."""

    id: str
    question: str
    answerable: bool
    lang: str = ""
    evidence: list[str] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)
    keywords: list[list[str]] = field(default_factory=list)


@dataclass
class EvalReport:
    """Aggregate scores (fractions in 0..1, latencies in ms) and per-question details."""

    questions: int
    evidence_hit: float
    footnote_recall: float
    keyword_match: float
    abstention_accuracy: float
    false_abstention: float
    cited_chars_per_answer: float
    marker_errors: int
    offset_errors: int
    latency_p50_ms: float
    latency_p95_ms: float
    details: list[dict[str, Any]] = field(default_factory=list)

    def table(self) -> str:
        rows = [
            ("questions", f"{self.questions}", ""),
            ("evidence hit", f"{self.evidence_hit:.2f}", ">= 0.95"),
            ("footnote recall", f"{self.footnote_recall:.2f}", ">= 0.95"),
            ("keyword match", f"{self.keyword_match:.2f}", ">= 0.85"),
            ("abstention accuracy", f"{self.abstention_accuracy:.2f}", ">= 0.67"),
            ("false abstention", f"{self.false_abstention:.2f}", "<= 0.07"),
            ("chars cited / answer", f"{self.cited_chars_per_answer:.0f}", "<= 500"),
            ("marker errors", f"{self.marker_errors}", "0"),
            ("offset errors", f"{self.offset_errors}", "0"),
            ("latency p50 (ms)", f"{self.latency_p50_ms:.1f}", ""),
            ("latency p95 (ms)", f"{self.latency_p95_ms:.1f}", ""),
        ]
        width = max(len(r[0]) for r in rows)
        lines = [f"{'metric':<{width}}  {'value':>8}  target", "-" * (width + 20)]
        lines += [f"{name:<{width}}  {value:>8}  {target}" for name, value, target in rows]
        missed = [(d["id"], problems) for d in self.details if (problems := _problems(d))]
        if missed:
            lines += ["", "missed:"]
            lines += [f"  {row_id}: {', '.join(problems)}" for row_id, problems in missed]
        return "\n".join(lines)


METRIC_NAMES = (
    "evidence_hit",
    "footnote_recall",
    "keyword_match",
    "abstention_accuracy",
    "false_abstention",
    "cited_chars_per_answer",
    "marker_errors",
    "offset_errors",
    "latency_p50_ms",
    "latency_p95_ms",
)


def _problems(detail: dict[str, Any]) -> list[str]:
    """What went wrong with one question, in words (empty when nothing did)."""
    if not detail["answerable"]:
        return [] if detail["abstained"] else ["answered, should abstain"]
    if detail["abstained"]:
        return ["abstained, should answer"]
    checks = {
        "evidence not cited": detail["evidence_hit"] is False,
        "footnote missing": (detail["footnote_recall"] or 1.0) < 1.0,
        "keywords missing": detail["keywords"] is False,
        "markers inconsistent": bool(detail["marker_errors"]),
        "bad offsets": bool(detail["offset_errors"]),
    }
    return [problem for problem, failed in checks.items() if failed]


def load_eval_set(path: Path) -> list[EvalItem]:
    """Read a JSONL question set; a malformed line is a RagError naming the line."""
    items = []
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as err:
        raise RagError(f"cannot read evaluation set {path}: {err.strerror or err}") from err
    known = set(EvalItem.__dataclass_fields__)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise TypeError("a line must be a JSON object")
            item = EvalItem(**{k: v for k, v in row.items() if k in known})
            _check_item(item)
        except (ValueError, TypeError) as err:
            raise RagError(f"{path}:{number}: not a valid question line ({err})") from err
        items.append(item)
    return items


def _is_strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _check_item(item: EvalItem) -> None:
    """Field types as the format says, so that a typo fails here, not as a wrong score."""
    if not isinstance(item.question, str) or not item.question.strip():
        raise TypeError("'question' must be a non-empty string")
    if not isinstance(item.answerable, bool):
        raise TypeError("'answerable' must be true or false")
    for name in ("evidence", "footnotes"):
        if not _is_strings(getattr(item, name)):
            raise TypeError(f"'{name}' must be a list of strings")
    if not (isinstance(item.keywords, list) and all(_is_strings(g) for g in item.keywords)):
        raise TypeError("'keywords' must be a list of lists of strings")


def marker_errors(answer: Answer) -> int:
    """1 if the markers in the text and the citations' markers differ, else 0."""
    return int(not markers_consistent(answer))


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.fmean(values) if values else 1.0


def evaluate(assistant: Assistant, items: list[EvalItem]) -> EvalReport:
    """Ask every question (after one warm-up) and score the answers."""
    store = assistant.store()
    if items:
        assistant.query(items[0].question)  # warm-up: model and caches
    details = []
    for item in items:
        started = time.perf_counter()
        answer = assistant.query(item.question)
        ms = (time.perf_counter() - started) * 1000
        cited = [c.text for c in answer.citations]
        labels = {f.label for c in answer.citations for f in c.footnotes}
        text = answer.text.lower()
        details.append(
            {
                "id": item.id,
                "answerable": item.answerable,
                "abstained": answer.abstained,
                "evidence_hit": any(e in t for e in item.evidence for t in cited)
                if item.evidence
                else None,
                "footnote_recall": len(labels & set(item.footnotes)) / len(item.footnotes)
                if item.footnotes
                else None,
                "keywords": all(any(k.lower() in text for k in group) for group in item.keywords)
                if item.keywords
                else None,
                "cited_chars": sum(len(t) for t in cited),
                "marker_errors": marker_errors(answer),
                "offset_errors": sum(
                    store.docs[c.doc_id].text[c.start : c.end] != c.text for c in answer.citations
                ),
                "ms": ms,
                "answer": answer.text,
                # What the answerability decision was based on (rag.answer.answerability).
                "confidence": answer.confidence,
                "features": answer.features,
            }
        )
    return report_of(details)


def report_of(details: list[dict[str, Any]]) -> EvalReport:
    """The aggregate scores of per-question ``details`` (one set's, or several sets' pooled)."""
    answerable = [d for d in details if d["answerable"]]
    unanswerable = [d for d in details if not d["answerable"]]
    answered = [d for d in details if not d["abstained"]]
    latencies = [d["ms"] for d in details]
    return EvalReport(
        questions=len(details),
        evidence_hit=_mean(
            float(bool(d["evidence_hit"])) for d in answerable if d["evidence_hit"] is not None
        ),
        footnote_recall=_mean(
            d["footnote_recall"] for d in answerable if d["footnote_recall"] is not None
        ),
        keyword_match=_mean(
            float(bool(d["keywords"])) for d in answerable if d["keywords"] is not None
        ),
        abstention_accuracy=_mean(float(d["abstained"]) for d in unanswerable),
        false_abstention=_mean(float(d["abstained"]) for d in answerable) if answerable else 0.0,
        cited_chars_per_answer=_mean(d["cited_chars"] for d in answered) if answered else 0.0,
        marker_errors=sum(d["marker_errors"] for d in details),
        offset_errors=sum(d["offset_errors"] for d in details),
        latency_p50_ms=_percentile(latencies, 0.5),
        latency_p95_ms=_percentile(latencies, 0.95),
        details=details,
    )


def report_json(report: EvalReport) -> str:
    """The report as JSON (for machines)."""
    return json.dumps(asdict(report), ensure_ascii=False, indent=1)
