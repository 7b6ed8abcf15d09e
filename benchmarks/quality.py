"""Answer quality on every question set, as JSON: one row a set, plus the pooled figures.

    python benchmarks/quality.py [--group calibration|frozen|all] [--embed use-multilingual]

A set is a folder under tests/data with ``questions.jsonl`` and ``docs/`` (no ``docs/``: the
article in the repository's ``docs/``). ``calibration`` sets may be used to choose rules and
thresholds; ``frozen`` ones (tests/data/frozen) were written blind and are only reported.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
CALIBRATION = [
    "dev",
    "heldout_article",
    "heldout/ru_numeric",
    "heldout/en_markdown",
    "heldout2/ru_numeric",
    "heldout2/en_markdown",
]
METRICS = (
    "evidence_hit",
    "footnote_recall",
    "keyword_match",
    "abstention_accuracy",
    "false_abstention",
    "cited_chars_per_answer",
)


def frozen_sets() -> list[str]:
    return sorted(
        str(p.parent.relative_to(DATA)) for p in (DATA / "frozen").glob("*/questions.jsonl")
    )


def set_paths(name: str) -> tuple[Path, Path]:
    """(docs folder, questions file) of a set."""
    if name == "dev":
        return ROOT / "docs", DATA / "dev.jsonl"
    folder = DATA / name
    docs = folder / "docs"
    return (docs if docs.is_dir() else ROOT / "docs"), folder / "questions.jsonl"


def _pooled(reports: list[dict]) -> dict:
    """Figures over all questions of the sets (not the mean of the sets' figures)."""
    details = [d for r in reports for d in r["details"]]
    answerable = [d for d in details if d["answerable"]]
    unanswerable = [d for d in details if not d["answerable"]]
    answered = [d for d in details if not d["abstained"]]

    def mean(values: list[float]) -> float:
        return round(sum(values) / len(values), 3) if values else 1.0

    return {
        "questions": len(details),
        "evidence_hit": mean([float(bool(d["evidence_hit"])) for d in answerable]),
        "footnote_recall": mean(
            [d["footnote_recall"] for d in answerable if d["footnote_recall"] is not None]
        ),
        "keyword_match": mean(
            [float(bool(d["keywords"])) for d in answerable if d["keywords"] is not None]
        ),
        "abstention_accuracy": mean([float(d["abstained"]) for d in unanswerable]),
        "false_abstention": mean([float(d["abstained"]) for d in answerable]),
        "cited_chars_per_answer": round(mean([d["cited_chars"] for d in answered]), 1),
        "marker_errors": sum(d["marker_errors"] for d in details),
        "offset_errors": sum(d["offset_errors"] for d in details),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", choices=("calibration", "frozen", "all"), default="all")
    parser.add_argument("--embed", default="use-multilingual")
    parser.add_argument("--details", action="store_true", help="per-question rows too")
    args = parser.parse_args(argv)

    import rag
    from rag.embeddings import make_embedder
    from rag.evaluation import evaluate, load_eval_set

    groups = {"calibration": CALIBRATION, "frozen": frozen_sets()}
    chosen = groups if args.group == "all" else {args.group: groups[args.group]}
    embedder = make_embedder(args.embed)
    out: dict = {"embed": args.embed}
    with tempfile.TemporaryDirectory() as scratch:
        for group, names in chosen.items():
            reports = []
            for name in names:
                docs, questions = set_paths(name)
                settings = rag.Settings(
                    docs_dir=docs,
                    index_dir=Path(scratch) / name.replace("/", "-"),
                    embed_model=args.embed,
                )
                assistant = rag.Assistant(settings, embedder=embedder)
                assistant.build_index()
                report = evaluate(assistant, load_eval_set(questions)).__dict__
                report["name"] = name
                reports.append(report)
            out[group] = {
                "sets": {
                    r["name"]: {m: round(r[m], 3) for m in (*METRICS, "questions")} for r in reports
                },
                "pooled": _pooled(reports),
            }
            if args.details:
                out[group]["details"] = {r["name"]: r["details"] for r in reports}
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
