"""Answering runs BLAS (and OpenMP) on the calling thread alone, and gives the limit back."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import numpy  # noqa: F401  (loads OpenBLAS, so there is a pool to limit)
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import rag
from rag import blas
from rag.blas import one_blas_thread


def _threads() -> set[int]:
    """The thread counts of the BLAS pools the process shares (OpenBLAS on pthreads)."""
    shared = [i for i in threadpool_info() if i.get("threading_layer") == "pthreads"]
    assert shared, "numpy's OpenBLAS should be loaded"
    return {info["num_threads"] for info in shared}


@pytest.fixture(autouse=True)
def two_threads() -> Iterator[None]:
    """The pools at two threads (the suite runs them at one: tests/conftest.py)."""
    with threadpool_limits(limits=2, user_api="blas"):
        yield


def test_one_thread_inside_and_the_process_limit_after() -> None:
    before = _threads()
    assert before == {2}
    with one_blas_thread():
        assert _threads() == {1}
        with one_blas_thread():  # nested: still one, and leaving it lifts nothing
            pass
        assert _threads() == {1}
    assert _threads() == before


class FakeController:
    """Stands for a threadpoolctl controller: counts the limits set and lifted."""

    def __init__(self) -> None:
        self.set = self.lifted = 0

    def limit(self, *, limits: int) -> FakeController:
        assert limits == 1
        self.set += 1
        return self

    def restore_original_limits(self) -> None:
        self.lifted += 1


def test_concurrent_questions_share_one_limit_lifted_by_the_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared, per_thread = FakeController(), FakeController()
    monkeypatch.setattr(blas, "_pools", (shared, per_thread))
    monkeypatch.setattr(blas, "_modules_seen", len(sys.modules))
    inside, first_out = threading.Barrier(2), threading.Event()
    seen: list[tuple[int, int]] = []

    def ask(leave_first: bool) -> None:
        with blas.one_blas_thread():
            with blas.one_blas_thread():  # nested in one thread: nothing more is set
                inside.wait(10)
            if not leave_first:
                first_out.wait(10)
                seen.append((shared.set, shared.lifted))  # the other has left: still limited
        if leave_first:
            first_out.set()

    workers = [threading.Thread(target=ask, args=(n == 0,)) for n in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(10)
    assert seen == [(1, 0)] and (shared.set, shared.lifted) == (1, 1)
    assert (per_thread.set, per_thread.lifted) == (2, 2)  # each thread its own


def test_the_assistant_answers_inside_it(shared_index: Callable[..., rag.Settings]) -> None:
    assistant = rag.Assistant(shared_index())
    search = assistant._search
    seen: list[set[int]] = []

    def recording(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        seen.append(_threads())
        return search(*args, **kwargs)

    assistant._search = recording  # type: ignore[method-assign]
    before = _threads()
    assert before == {2}
    assistant.query("Как Песков охарактеризовал разговор?")
    list(assistant.stream("Как Песков охарактеризовал разговор?"))
    assistant.retrieve("Песков")
    assert seen == [{1}, {1}, {1}] and _threads() == before


def test_a_server_limits_the_pools_for_the_process() -> None:
    blas.one_blas_thread_for_the_process()  # inside two_threads, which gives the limit back
    assert _threads() == {1}
    seen: list[set[int]] = []
    worker = threading.Thread(target=lambda: seen.append(_threads()))
    worker.start()
    worker.join(10)
    assert seen == [{1}]  # and the threads that answer see it


def test_the_ui_server_sets_it_before_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.ui import app

    calls: list[str] = []
    monkeypatch.setattr(app, "one_blas_thread_for_the_process", lambda: calls.append("blas"))

    def create_app(self: object) -> object:
        calls.append("app")
        raise RuntimeError("stop here")

    monkeypatch.setattr(app.AssistantUI, "create_app", create_app)
    with pytest.raises(RuntimeError, match="stop here"):
        app.AssistantUI.launch(object.__new__(app.AssistantUI))  # type: ignore[arg-type]
    assert calls == ["blas", "app"]
