"""Robustness, issue 7 item 4 (the fast part): one Assistant, 8 threads x 200 questions.

Concurrent answers must be exactly the sequential ones, with no error. The real-embedder
figures, the UI over loopback and the memory soak are in ``benchmarks/load.py``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import rag
from helpers.shared import DEV_SET_PATH, assert_answer_contract
from rag.errors import InvalidQuestionError

THREADS = 8
PER_THREAD = 100  # 800 questions in flight across the threads


def _questions() -> list[str]:
    rows = [json.loads(line) for line in Path(DEV_SET_PATH).read_text("utf-8").splitlines() if line]
    extra = [
        "Что сказал Песков?",
        "What freight volume does Azerbaijan target by 2028?",
        "Peskov görüşmeyi nasıl nitelendirdi?",
        "Какая погода на Марсе?",  # abstains
        "<script>alert(1)</script> Баку",
    ]
    return [row["question"] for row in rows] + extra


def test_eight_threads_give_the_sequential_answers(
    shared_assistant: rag.Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    questions = _questions()
    sequential = {q: shared_assistant.query(q).to_dict() for q in questions}
    for q in questions[:3]:
        assert_answer_contract(shared_assistant.query(q), shared_assistant)
    errors: list[tuple[str, BaseException]] = []

    def worker(offset: int) -> list[tuple[str, dict]]:
        out = []
        for n in range(PER_THREAD):
            q = questions[(offset + n) % len(questions)]  # threads ask different things at once
            try:
                out.append((q, shared_assistant.query(q).to_dict()))
            except BaseException as err:  # collected, then reported below
                errors.append((q, err))
        return out

    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        results = [r for batch in pool.map(worker, range(THREADS)) for r in batch]
    elapsed = time.monotonic() - started
    assert not errors, errors[:3]
    assert len(results) == THREADS * PER_THREAD
    mismatched = Counter(q for q, answer in results if answer != sequential[q])
    assert not mismatched, f"answers differ under threads: {mismatched.most_common(3)}"
    assert elapsed < 60, f"{len(results)} queries took {elapsed:.1f} s"


def test_bad_questions_mixed_into_the_load_fail_alone(shared_assistant: rag.Assistant) -> None:
    good = "Как Песков охарактеризовал разговор?"
    expected = shared_assistant.query(good).to_dict()
    bad: list[object] = ["", "x" * 2001, None, "😀", "\ud800"]

    def ask(n: int) -> str:
        if n % 3 == 0:
            question = bad[n % len(bad)]
            try:
                shared_assistant.query(question)  # type: ignore[arg-type]
            except InvalidQuestionError:
                return "refused"
            return "answered a bad question"
        return "ok" if shared_assistant.query(good).to_dict() == expected else "differs"

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = Counter(pool.map(ask, range(400)))
    assert set(outcomes) == {"ok", "refused"}, outcomes


def test_retrieve_and_query_interleaved_under_threads(shared_assistant: rag.Assistant) -> None:
    questions = _questions()
    expected = {q: [p.to_dict() for p in shared_assistant.retrieve(q, k=5)] for q in questions}

    def ask(n: int) -> bool:
        q = questions[n % len(questions)]
        if n % 2:
            shared_assistant.query(q)
            return True
        return [p.to_dict() for p in shared_assistant.retrieve(q, k=5)] == expected[q]

    with ThreadPoolExecutor(THREADS) as pool:
        assert all(pool.map(ask, range(400)))
