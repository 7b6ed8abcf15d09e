"""The LLM path against a real OpenAI-compatible server (skipped unless one is named).

``make test-llm`` starts llama.cpp with Gemma 3 270M and sets the variables; to point the same
tests at a capable instruct model of your own:

    RAG_TEST_LLM_BASE_URL=http://127.0.0.1:11434/v1 RAG_TEST_LLM_MODEL=qwen2.5:7b \\
        .venv/bin/pytest tests/test_llm_real.py

``RAG_TEST_LLM_PID`` (the server's process id, when it is ours to pause) enables the
stopped-server test; ``RAG_TEST_LLM_REPORT`` names a JSON file for the measured figures.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import Answer, Assistant
from rag.index.embeddings import Embedder

BASE_URL = os.environ.get("RAG_TEST_LLM_BASE_URL", "")
MODEL = os.environ.get("RAG_TEST_LLM_MODEL", "local")
SERVER_PID = int(os.environ.get("RAG_TEST_LLM_PID", "0") or 0)
REPORT = os.environ.get("RAG_TEST_LLM_REPORT", "")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not BASE_URL, reason="no real LLM server: run `make test-llm`"),
]

# What must never reach the user while an answer streams.
HIDDEN = ("<<<", ">>>", "PASSAGE", "NOT_IN_DOCUMENTS", "<start_of_turn>", "<end_of_turn>", "<|")
HIDDEN += ("Rules:", "Answer the question at the end", "in square brackets")  # echoed rules
FIGURES: dict[str, Any] = {}


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    if REPORT and FIGURES:
        Path(REPORT).write_text(json.dumps(FIGURES, ensure_ascii=False, indent=1), "utf-8")


def _with_llm(base: Assistant, embedder: Embedder, **overrides: Any) -> Assistant:
    update = {"llm": "openai-like", "llm_base_url": BASE_URL, "llm_model": MODEL, **overrides}
    return Assistant(base.settings.model_copy(update=update), embedder=embedder)


@pytest.fixture(scope="module")
def llm_assistant(real_assistant: Assistant, real_embedder: Embedder) -> Assistant:
    assistant = _with_llm(real_assistant, real_embedder)
    assistant.build_index()  # the index real_assistant built: nothing to embed
    return assistant


def _streamed(assistant: Assistant, question: str) -> tuple[str, Answer, float | None, float]:
    """Everything shown while streaming, the final answer, first-text and total seconds."""
    began, first, shown = time.monotonic(), None, ""
    final: Answer | None = None
    for item in assistant.stream(question):
        if isinstance(item, Answer):
            final = item
            continue
        if first is None and item.strip():
            first = time.monotonic() - began
        shown += item
        assert not any(hidden in shown for hidden in HIDDEN), shown
    assert final is not None
    return shown, final, first, time.monotonic() - began


def test_the_dev_set_through_the_llm_has_no_false_abstention(
    llm_assistant: Assistant, real_assistant: Assistant, dev_set: list[dict[str, Any]], check_answer
) -> None:
    rows = []
    for row in dev_set:
        began = time.monotonic()
        quoted = real_assistant.query(row["question"])
        ours = time.monotonic() - began  # retrieval and the extractive answer: our side
        _, final, first, total = _streamed(llm_assistant, row["question"])
        check_answer(final, llm_assistant)
        if not quoted.abstained:  # the documents answer it: the LLM must not take that away
            assert not final.abstained, (row["id"], final.text, final.notes)
        if final.mode == "extractive":
            assert final.notes, "a fallback always says why"
        rows.append({"id": row["id"], "mode": final.mode, "first": first, "total": total,
                     "ours": ours, "abstained": final.abstained, "notes": final.notes})  # fmt: skip
    firsts = [r["first"] for r in rows if r["first"] is not None]
    FIGURES["dev"] = {
        "questions": len(rows),
        "llm_answers": sum(r["mode"] == "llm" and not r["abstained"] for r in rows),
        "fallbacks": sum(r["mode"] == "extractive" for r in rows),
        "abstained": sum(r["abstained"] for r in rows),
        "first_text_s_p50": round(statistics.median(firsts), 2) if firsts else None,
        "total_s_p50": round(statistics.median(r["total"] for r in rows), 2),
        "total_s_max": round(max(r["total"] for r in rows), 2),
        "ours_s_p50": round(statistics.median(r["ours"] for r in rows), 3),
        "fallback_reasons": sorted({n[:160] for r in rows for n in r["notes"]}),
    }


def test_a_timeout_too_short_for_the_server_falls_back_cleanly(
    real_assistant: Assistant, real_embedder: Embedder
) -> None:
    assistant = _with_llm(real_assistant, real_embedder, llm_timeout=0.3)
    began = time.monotonic()
    _, final, _, _ = _streamed(assistant, "Как Песков охарактеризовал разговор?")
    assert time.monotonic() - began < 0.3 + 10  # retrieval and the fallback, never a hang
    assert final.mode == "extractive" and "timed out" in final.notes[0]


@pytest.mark.skipif(not SERVER_PID, reason="the server is not ours to pause")
def test_a_stopped_server_process_falls_back_within_the_timeout(
    real_assistant: Assistant, real_embedder: Embedder
) -> None:
    assistant = _with_llm(real_assistant, real_embedder, llm_timeout=3.0)
    os.kill(SERVER_PID, signal.SIGSTOP)  # it accepts connections and answers nothing
    try:
        began = time.monotonic()
        _, final, _, _ = _streamed(assistant, "Как Песков охарактеризовал разговор?")
        elapsed = time.monotonic() - began
    finally:
        os.kill(SERVER_PID, signal.SIGCONT)
    assert elapsed < 3.0 + 10
    assert final.mode == "extractive" and final.citations and "timed out" in final.notes[0]
    FIGURES["stopped_server_fallback_s"] = round(elapsed, 2)
