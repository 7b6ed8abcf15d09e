"""Answer quality on every question set, as JSON: one row a set, plus the pooled figures.

    python benchmarks/quality.py [--group calibration|frozen|all] [--embed use-multilingual]

A set is a folder under tests/data with ``questions.jsonl`` and ``docs/`` (no ``docs/``: the
article in the repository's ``docs/``). ``calibration`` sets may be used to choose rules and
thresholds; ``frozen`` ones (tests/data/frozen, frozen3) were written blind and are only
reported.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def calibration_sets() -> list[str]:
    """rag.calibration.CALIBRATION_SETS, by set name (``dev`` for tests/data/dev.jsonl)."""
    from rag.calibration import CALIBRATION_SETS

    names = []
    for path in CALIBRATION_SETS:
        relative = Path(path).relative_to("tests/data")
        names.append("dev" if relative.name == "dev.jsonl" else str(relative.parent))
    return names


FROZEN = ("frozen", "frozen3")  # folders of frozen sets, written blind, only reported


def frozen_sets() -> list[str]:
    return sorted(
        str(p.parent.relative_to(DATA))
        for folder in FROZEN
        for p in (DATA / folder).glob("*/questions.jsonl")
    )


def set_paths(name: str) -> tuple[Path, Path]:
    """(docs folder, questions file) of a set."""
    if name == "dev":
        return ROOT / "docs", DATA / "dev.jsonl"
    folder = DATA / name
    docs = folder / "docs"
    return (docs if docs.is_dir() else ROOT / "docs"), folder / "questions.jsonl"


def _figures(report: object) -> dict:
    """A report's metrics (rag.evaluation.METRIC_NAMES) and question count, rounded."""
    from rag.evaluation import METRIC_NAMES

    return {m: round(getattr(report, m), 3) for m in ("questions", *METRIC_NAMES)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", choices=("calibration", "frozen", "all"), default="all")
    parser.add_argument("--embed", default="use-multilingual")
    parser.add_argument("--details", action="store_true", help="per-question rows too")
    args = parser.parse_args(argv)

    import rag
    from rag.evaluation import evaluate, load_eval_set, report_of
    from rag.index.embeddings import make_embedder

    groups = {"calibration": calibration_sets(), "frozen": frozen_sets()}
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
                reports.append((name, evaluate(assistant, load_eval_set(questions))))
            pooled = report_of([d for _, r in reports for d in r.details])
            out[group] = {
                "sets": {name: _figures(r) for name, r in reports},
                "pooled": _figures(pooled),  # over all questions, not the sets' mean
            }
            if args.details:
                out[group]["details"] = {name: r.details for name, r in reports}
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
