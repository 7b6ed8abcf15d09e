"""The ``rag`` command: ``index``, ``ask``, ``fetch``, ``eval``.

Every error the package raises on purpose becomes one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rag.assistant import Assistant
from rag.errors import RagError
from rag.index.build import footnote_counts
from rag.models import Answer, Footnote, marker_text
from rag.settings import load_settings

if TYPE_CHECKING:
    from rag.corpus.sources import FetchReport

__all__ = ["main"]

DEFAULT_EVAL_SET = Path(__file__).resolve().parents[2] / "tests" / "data" / "dev.jsonl"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Answer questions about footnoted documents, with citations."
    )
    parser.add_argument("--docs-dir", type=Path, help="the corpus (default: $RAG_DOCS_DIR or docs)")
    parser.add_argument(
        "--index-dir", type=Path, help="the index (default: $RAG_INDEX_DIR or index)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    index = sub.add_parser("index", help="build the index (only what changed is re-embedded)")
    index.add_argument("--force", action="store_true", help="rebuild even if up to date")
    index.add_argument("--fetch", action="store_true", help="fetch footnote sources first")

    ask = sub.add_parser("ask", help="answer a question with citations")
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=None, help="passages to retrieve")
    ask.add_argument("--json", action="store_true", help="print the Answer as JSON")
    ask.add_argument("--mode", choices=["extractive", "llm"], default=None)

    sub.add_parser("fetch", help="download each footnote's source into docs/sources/")

    evaluate = sub.add_parser("eval", help="score answers on a JSONL question set")
    evaluate.add_argument(
        "--data",
        type=Path,
        action="append",
        help="a JSONL question set (default: tests/data/dev.jsonl; with --sweep: the "
        "calibration sets; may be repeated with --sweep)",
    )
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.add_argument(
        "--min",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 unless METRIC (e.g. evidence_hit) reaches VALUE; may be repeated",
    )
    evaluate.add_argument(
        "--max",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 if METRIC (e.g. false_abstention) exceeds VALUE; may be repeated",
    )
    evaluate.add_argument(
        "--sweep",
        action="store_true",
        help="fit the answerability model on the sets and write the embedder's profile",
    )
    evaluate.add_argument(
        "--profile-out", type=Path, help="with --sweep: where to write the profile"
    )
    return parser


def _footnote_line(note: Footnote) -> str:
    parts = [p for p in (note.publisher, f"“{note.title}”" if note.title else "") if p]
    line = f"↳ [{note.label}] " + " — ".join(parts)
    if note.url:
        line += f" <{note.url}>"
    if note.source_doc_id:
        line += "  (source text indexed)"
    return line


def _footnotes_found(path: str, counts: dict[str, int]) -> str:
    """ "article.ru.txt: 6 footnotes found, 6 used, 0 unused" (and markers without one)."""
    line = (
        f"{path}: {counts.get('found', 0)} footnotes found, {counts.get('used', 0)} used, "
        f"{counts.get('unused', 0)} unused"
    )
    missing = counts.get("missing", 0)
    if missing:
        line += f"; {missing} marker{'s' if missing > 1 else ''} without an entry"
    return line


def format_answer(answer: Answer) -> str:
    """The answer, then its citations printed like footnotes."""
    lines = [answer.text, ""]
    for note in answer.notes:
        lines.append(f"note: {note}")
    for flag in answer.flags:
        lines.append(f"unsupported, citation removed: {flag.sentence} ({flag.reason})")
    for c in answer.citations:
        text = " ".join(c.text.split())
        lines.append(f"{marker_text(c.marker)} {text}")
        lines.append(f"    — {c.title} ({c.doc_id}, chars {c.start}–{c.end})")
        lines.extend(f"    {_footnote_line(note)}" for note in c.footnotes)
    return "\n".join(lines).rstrip()


def _progress_bar():  # -> callable, closes itself at the end
    from tqdm import tqdm

    bar: dict[str, tqdm] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in bar:
            bar[stage] = tqdm(total=total, desc=stage, unit="text", leave=False, file=sys.stderr)
        bar[stage].update(done - bar[stage].n)
        if done >= total:
            bar.pop(stage).close()

    return update


def _fetch_summary(reports: list[FetchReport], docs_dir: Path) -> bool:
    """Print how many sources were fetched, and why none were when the machine is offline;
    return whether a fetch was tried and fetched nothing."""
    from rag.corpus.sources import attempted, looks_offline, nothing_fetched
    from rag.ui.labels import labels_for

    fetched = sum(r.status == "fetched" for r in reports)
    print(f"{fetched} of {len(reports)} sources fetched")
    if looks_offline(reports):
        label = attempted(reports)[0].label  # a source to save by hand
        where = (docs_dir / "sources").as_posix()
        advice = labels_for("en")["offline"].format(dir=where, label=label)
        print(advice, file=sys.stderr)
    return nothing_fetched(reports)


def _run(args: argparse.Namespace) -> int:
    overrides = {
        key: value
        for key, value in (("docs_dir", args.docs_dir), ("index_dir", args.index_dir))
        if value is not None
    }
    assistant = Assistant(load_settings(**overrides))
    if args.command == "fetch" or (args.command == "index" and args.fetch):
        reports = assistant.fetch_sources()
        for r in reports:
            detail = f" ({r.reason})" if r.reason else ""
            print(f"[{r.label}] {r.status}: {r.url or 'no URL'}{detail}")
        failed = _fetch_summary(reports, assistant.settings.docs_dir)
        if args.command == "fetch":
            return 1 if failed else 0
    if args.command == "index":
        stats = assistant.build_index(force=args.force, progress=_progress_bar())
        for path, reason in stats.skipped:
            print(f"skipped {path}: {reason}", file=sys.stderr)
        for path, counts in footnote_counts(assistant.settings):
            print(_footnotes_found(path, counts))
        print(stats.summary())
        return 0
    if args.command == "ask":
        answer = assistant.query(args.question, k=args.k, mode=args.mode)
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
        else:
            print(format_answer(answer))
        return 0
    if args.command == "eval":
        return _sweep(assistant, args) if args.sweep else _evaluate(assistant, args)
    raise AssertionError(args.command)


def _targets(args: argparse.Namespace) -> list[tuple[str, str, float]]:
    """The --min/--max targets as (metric, "min"|"max", value); a RagError if malformed."""
    from rag.evaluation import METRIC_NAMES

    out = []
    for kind in ("min", "max"):
        for target in getattr(args, kind):
            name, _, value = target.partition("=")
            try:
                number = float(value)
            except ValueError:
                number = float("nan")
            if name not in METRIC_NAMES or number != number:
                raise RagError(
                    f"--{kind} {target!r}: write METRIC=VALUE with METRIC one of "
                    f"{', '.join(METRIC_NAMES)}"
                )
            out.append((name, kind, number))
    return out


def _evaluate(assistant: Assistant, args: argparse.Namespace) -> int:
    from rag.evaluation import evaluate, load_eval_set, report_json

    targets = _targets(args)
    if args.data and len(args.data) > 1:
        raise RagError("rag eval scores one question set at a time: give --data once")
    report = evaluate(assistant, load_eval_set(args.data[0] if args.data else DEFAULT_EVAL_SET))
    print(report_json(report) if args.json else report.table())
    missed = [
        f"{name} {getattr(report, name):.3f} {'<' if kind == 'min' else '>'} {value}"
        for name, kind, value in targets
        if (getattr(report, name) < value if kind == "min" else getattr(report, name) > value)
    ]
    for line in missed:
        print(f"target missed: {line}", file=sys.stderr)
    return 1 if missed else 0


def _sweep(assistant: Assistant, args: argparse.Namespace) -> int:
    from rag.calibration import CALIBRATION_SETS, set_paths, sweep

    root = DEFAULT_EVAL_SET.parents[2]
    files = args.data or [root / name for name in CALIBRATION_SETS]
    sets = [set_paths(path, assistant.settings.docs_dir) for path in files]
    for _, questions in sets:
        if not questions.is_file():
            raise RagError(f"no question set at {questions}: give one with --data FILE")
    base = assistant.profile
    profile, folds = sweep(sets, assistant.embedder, base)
    name = assistant.settings.embed_model
    out = args.profile_out or Path(__file__).parent / "profiles" / f"{name}.json"
    profile.save(out)
    if args.json:
        print(json.dumps({"profile": str(out), "digest": profile.digest(), "folds": folds}))
    else:
        print(f"profile {profile.digest()} for {name} written to {out}")
        print("left out in turn (fitted on the other sets):")
        for fold, figures in folds.items():
            print(
                f"  {fold}: {figures['questions']} questions, abstention accuracy "
                f"{figures['abstention_accuracy']:.2f}, false abstention "
                f"{figures['false_abstention']:.2f}"
            )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rag`` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        # Libraries set their own loggers to DEBUG; the handler decides what is shown.
        for handler in logging.getLogger().handlers:
            handler.setLevel(logging.INFO)
        for noisy in ("faiss", "faiss.loader", "bm25s", "httpx", "root", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        code = _run(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the try, not at exit
        return code
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`rag ask … | head -1`): not an error worth a traceback. Point
        # stdout at /dev/null so that flushing it at exit does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # what a shell reports for SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
