"""The LLM answer path against a real llama.cpp server: latency, our overhead, fallbacks.

By default starts the server ``make test-llm`` uses (llama-cpp-python and Gemma 3 270M,
installed into ``--cache`` by ``tests/real_llm.py``; the first run builds the wheel, about
7 minutes on 2 cores) on 127.0.0.1 at a free port, asks the first ``--questions`` questions
of ``tests/data/dev.jsonl`` through ``Assistant.stream`` in LLM mode, stops the server and
prints JSON. ``--base-url``/``--model`` use a server that is already running instead.

    python benchmarks/llm.py [--questions 10] [--cache ~/.cache/rag-test-llm]
    python benchmarks/llm.py --base-url http://127.0.0.1:11434/v1 --model qwen2.5:7b

The server wait is measured from outside our code: the assistant's llama-index client is
wrapped so that its ``stream_chat`` records when the request starts, when the first non-empty
delta arrives and when the stream ends. Per question (seconds, p50/p95 over the questions):

* ``ttft_s``: from calling ``Assistant.stream`` to the first non-empty token from the server
  (our retrieval and prompt building, then the server reading the prompt);
* ``first_visible_s``: to the first non-empty text the stream yields to the caller (echoed
  prompt lines are held back, so it can come later than ``ttft_s``, or never: questions
  with nothing shown before the final answer are left out; LLM text that a fallback then
  replaces counts);
* ``total_s``: to the final :class:`rag.Answer`;
* ``server_s``: from the client's request to the end of the server's stream (HTTP and the
  client's SSE parsing included: they are the server's side of the wire);
* ``overhead_s``: ``total_s - server_s``: retrieval, prompt building, verification and, when
  the LLM's answer is not used, the extractive fallback;
* ``extractive_s``: the same question answered with ``mode="extractive"`` (no server), for
  comparison with ``overhead_s``.

Counts: ``llm_verified`` (LLM answers with verified citations), ``llm_abstained``,
``fallbacks`` (extractive answers that replaced the LLM's, with ``fallback_reasons``: each
note and how often it was given) and ``false_abstentions`` (answerable questions, by the dev
set's label, that got no answer).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the llama.cpp server machinery lives with the tests

from rag import Answer, Assistant, Settings  # noqa: E402
from rag.answer.answerer import LLMWithFallback  # noqa: E402
from rag.evaluation import EvalItem, load_eval_set  # noqa: E402
from real_llm import (  # noqa: E402
    MODEL_ALIAS,
    ServerProcess,
    SetupError,
    ensure_model,
    ensure_server_env,
    free_port,
)

DEV_SET = ROOT / "tests" / "data" / "dev.jsonl"
NOTE_CHARS = 240  # a fallback note is counted by its first characters (its gist)


class TimedLLM:
    """The llama-index client, each of its requests timed: ``calls`` holds, per request, when
    it ``started``, when its ``first`` non-empty delta came and when it ``ended``
    (``time.perf_counter`` values; a stream given up on sets ``ended`` when it stops)."""

    def __init__(self, llm: Any) -> None:
        self._llm = llm
        self.calls: list[dict[str, float | None]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._llm, name)

    def stream_chat(self, messages: Any, **kwargs: Any) -> Iterator[Any]:
        call: dict[str, float | None] = {"started": time.perf_counter(), "first": None}
        call["ended"] = None
        self.calls.append(call)
        try:
            for response in self._llm.stream_chat(messages, **kwargs):
                if call["first"] is None and (response.delta or ""):
                    call["first"] = time.perf_counter()
                yield response
        finally:
            call["ended"] = time.perf_counter()

    def chat(self, messages: Any, **kwargs: Any) -> Any:
        call = {"started": time.perf_counter(), "first": None, "ended": None}
        self.calls.append(call)
        try:
            return self._llm.chat(messages, **kwargs)
        finally:
            call["ended"] = call["first"] = time.perf_counter()


def _stats(values: Sequence[float | None]) -> dict[str, float | int | None]:
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return {"p50": None, "p95": None, "n": 0}
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return {"p50": round(statistics.median(ordered), 3), "p95": round(p95, 3), "n": len(ordered)}


def ask(assistant: Assistant, timed: TimedLLM, item: EvalItem) -> dict[str, Any]:
    """One question through the LLM path, timed; then the same question extractively."""
    began = time.perf_counter()
    first_visible, final = None, None
    for piece in assistant.stream(item.question):
        if isinstance(piece, Answer):
            final = piece
        elif first_visible is None and piece.strip():
            first_visible = time.perf_counter() - began
    ended = time.perf_counter()
    assert final is not None
    calls = [c for c in timed.calls if c["started"] >= began]  # this question's request
    call = calls[0] if calls else {"started": ended, "first": None, "ended": ended}
    # A stream given up on (timed out) may stop after the answer: the wait ends with it.
    server = min(call["ended"] or ended, ended) - call["started"]
    total = ended - began
    quick = time.perf_counter()
    assistant.query(item.question, mode="extractive")
    extractive = time.perf_counter() - quick
    return {
        "id": item.id,
        "answerable": item.answerable,
        "mode": final.mode,
        "abstained": final.abstained,
        "citations": len(final.citations),
        "requests": len(calls),
        "ttft_s": None if call["first"] is None else round(call["first"] - began, 3),
        "first_visible_s": None if first_visible is None else round(first_visible, 3),
        "total_s": round(total, 3),
        "server_s": round(server, 3),
        "overhead_s": round(total - server, 3),
        "extractive_s": round(extractive, 3),
        "notes": list(final.notes),
    }


def run(base_url: str, model: str, items: list[EvalItem]) -> dict[str, Any]:
    load = os.getloadavg()[0]  # other work on the machine slows the server down
    work = Path(tempfile.mkdtemp(prefix="rag-bench-llm-"))
    try:
        docs = work / "docs"
        skip = shutil.ignore_patterns("sources", "uploads", ".removed")
        shutil.copytree(ROOT / "docs", docs, ignore=skip)
        settings = Settings(
            docs_dir=docs,
            index_dir=work / "index",
            embed_model="use-multilingual",
            top_k=5,
            chunk_tokens=160,
            llm="openai-like",
            llm_base_url=base_url,
            llm_model=model,
        )
        assistant = Assistant(settings)
        assistant.build_index()
        assistant.query(items[0].question, mode="extractive")  # loads the embedder, untimed
        chosen = assistant.answerer()
        assert isinstance(chosen, LLMWithFallback)
        answerer = chosen.llm_answerer
        timed = TimedLLM(answerer.llm)
        answerer._llm = timed  # the client it builds, its streams timed
        rows = [ask(assistant, timed, item) for item in items]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    reasons = Counter(
        note.replace(f" at {base_url}", "")[:NOTE_CHARS]  # the port differs from run to run
        for r in rows
        if r["mode"] == "extractive"
        for note in r["notes"]
    )
    figures = ("ttft_s", "first_visible_s", "total_s", "server_s", "overhead_s", "extractive_s")
    return {
        "questions": len(rows),
        "load_average_1m": {"start": round(load, 2), "end": round(os.getloadavg()[0], 2)},
        **{name: _stats([r[name] for r in rows]) for name in figures},
        "llm_verified": sum(r["mode"] == "llm" and not r["abstained"] for r in rows),
        "llm_abstained": sum(r["mode"] == "llm" and r["abstained"] for r in rows),
        "fallbacks": sum(r["mode"] == "extractive" for r in rows),
        "fallback_reasons": dict(reasons.most_common()),
        "false_abstentions": sum(r["answerable"] and r["abstained"] for r in rows),
        "false_abstention_ids": [r["id"] for r in rows if r["answerable"] and r["abstained"]],
        "per_question": rows,
    }


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default="~/.cache/rag-test-llm", help="server install folder")
    parser.add_argument("--base-url", default="", help="a running server (…/v1) to use instead")
    parser.add_argument("--model", default="", help="the model name, with --base-url")
    parser.add_argument("--questions", type=int, default=10, help="dev questions to ask")
    args = parser.parse_args(argv)
    if args.base_url and not args.model:
        parser.error("--base-url needs --model")
    if args.questions < 1:
        parser.error("--questions must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    items = load_eval_set(DEV_SET)[: args.questions]
    if args.base_url:
        server = {"base_url": args.base_url, "model": args.model, "started_here": False}
        result = run(args.base_url, args.model, items)
    else:
        cache = Path(args.cache).expanduser().resolve()
        try:
            python = ensure_server_env(cache)
            model = ensure_model(python, cache)
            port = free_port()
            base_url = f"http://127.0.0.1:{port}/v1"
            began = time.perf_counter()
            with ServerProcess(python, model, port, cache / "bench-server.log"):
                startup = round(time.perf_counter() - began, 2)
                result = run(base_url, MODEL_ALIAS, items)
        except SetupError as err:
            print(f"benchmarks/llm.py: {err}", file=sys.stderr)
            return 2
        server = {
            "base_url": base_url,
            "model": f"{MODEL_ALIAS} ({model.name}, llama.cpp)",
            "started_here": True,
            "startup_s": startup,
        }
    print(json.dumps({"server": server, **result}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
