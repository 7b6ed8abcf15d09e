"""Evidence found by the extractive answer under a grid of ranking weights, as JSON.

    python benchmarks/ranking_grid.py [--embed use-multilingual] [--grid lexical_weight=0.3,0.5]

Only the calibration sets (rag.calibration.CALIBRATION_SETS) are read; frozen sets never.
Each set is indexed once and each question parsed and retrieved once; then every point of
the grid re-ranks the same hits with the answerability threshold at 0 (so the figure is
what the ranking and selection quote, whatever the decision would be). Reported: each
point's evidence hit over the answerable questions, and leave-one-set-out: for each set, the
point best on the other sets, scored on it (the figure to expect on text not tuned for).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_GRID = {
    "lexical_weight": (0.3, 0.5, 0.7),
    "type_weight": (0.1, 0.2, 0.3),
    "number_weight": (0.05, 0.1),
    "noted_weight": (0.25, 0.5),
}


def _grid(specs: list[str]) -> dict[str, tuple[float, ...]]:
    grid = dict(DEFAULT_GRID)
    for spec in specs:
        name, _, values = spec.partition("=")
        grid[name] = tuple(float(v) for v in values.split(","))
    return grid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embed", default="use-multilingual")
    parser.add_argument("--grid", action="append", default=[], help="NAME=V1,V2,... (repeat)")
    args = parser.parse_args(argv)

    import rag
    from rag.answer.extractive import ExtractiveAnswerer
    from rag.assistant import MIN_ANSWER_PASSAGES
    from rag.calibration import CALIBRATION_SETS, set_paths
    from rag.evaluation import load_eval_set
    from rag.index.embeddings import make_embedder
    from rag.profile import load_profile

    grid = _grid(args.grid)
    names = list(grid)
    points = [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]
    embedder = make_embedder(args.embed)
    base = load_profile(args.embed)
    open_model = base.answerability.model_copy(update={"threshold": 0.0})
    profiles = [base.model_copy(update={**p, "answerability": open_model}) for p in points]
    hits: dict[str, list[list[bool]]] = {}  # set -> per point, per answerable question
    with tempfile.TemporaryDirectory() as scratch:
        for n, relative in enumerate(CALIBRATION_SETS):
            docs, questions = set_paths(ROOT / relative, ROOT / "docs")
            settings = rag.Settings(
                docs_dir=docs, index_dir=Path(scratch) / str(n), embed_model=args.embed
            )
            assistant = rag.Assistant(settings, embedder=embedder)
            assistant.build_index()
            items = [i for i in load_eval_set(questions) if i.answerable and i.evidence]
            found = [assistant._search(i.question, None, MIN_ANSWER_PASSAGES) for i in items]
            rows = []
            for profile in profiles:
                answerer = ExtractiveAnswerer(assistant.store(), profile)
                row = []
                for item, search in zip(items, found, strict=True):
                    cited = [c.text for c in answerer.answer(search.query, search.hits).citations]
                    row.append(any(e in t for e in item.evidence for t in cited))
                rows.append(row)
            hits[relative] = rows
            print(f"{relative}: {len(items)} questions", file=sys.stderr)

    def score(point: int, sets: list[str]) -> float:
        flat = [h for s in sets for h in hits[s][point]]
        return sum(flat) / len(flat)

    sets = list(hits)
    pooled = [score(i, sets) for i in range(len(points))]
    best = max(range(len(points)), key=lambda i: pooled[i])
    held: list[bool] = []
    chosen = {}
    for left in sets:
        rest = [s for s in sets if s != left]
        pick = max(range(len(points)), key=lambda i: score(i, rest))
        chosen[left] = points[pick]
        held += hits[left][pick]
    current = {k: getattr(base, k) for k in names}
    now = next((i for i, p in enumerate(points) if p == current), None)
    out = {
        "embed": args.embed,
        "answerable_questions": sum(len(hits[s][0]) for s in sets),
        "current": {"point": current, "evidence": None if now is None else round(pooled[now], 3)},
        "best": {"point": points[best], "evidence": round(pooled[best], 3)},
        "leave_one_set_out": {"evidence": round(sum(held) / len(held), 3), "chosen": chosen},
        "points": [
            {"point": p, "evidence": round(e, 3)}
            for p, e in sorted(zip(points, pooled, strict=True), key=lambda x: -x[1])
        ],
    }
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
