"""One BLAS thread while questions are answered.

Answering multiplies small matrices (a question's words against the corpus lexicon, a
question against a passage's sentences, faiss's search). On such products a BLAS thread pool
only adds hand-offs, and on a machine whose cores are busy the pool's threads wait for them:
with two other processes spinning on this 2-core machine, the answer p50 was 230 ms asking
one question at a time and 480-880 ms with 8 threads asking at once, against 14 ms and 68-76
ms with one BLAS thread. So while a question is being answered, BLAS runs on the calling
thread alone. Pools come in two kinds: one the whole process shares (OpenBLAS on pthreads,
numpy's), limited by the first question in and given back by the last one out; and one per
thread (OpenBLAS on OpenMP, faiss's), limited and given back by each answering thread. The
encoder sets its own limit for its forward pass. A limit set from a worker thread did not
hold for the others here (8 threads: 670 ms p50 with it alone), so a server answering from
many threads also calls :func:`one_blas_thread_for_the_process` in its main thread.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["one_blas_thread", "one_blas_thread_for_the_process"]

_lock = threading.Lock()
_active = 0  # questions being answered, in all threads
_shared_limit: Any = None  # the shared pools' limiter, while _active > 0
_pools: tuple[Any, Any] | None = None  # (shared, per-thread) controllers (~0.5 ms to inspect)
_modules_seen = 0  # len(sys.modules) when they were made: a native library comes with an import
_here = threading.local()  # this thread's depth and its per-thread limiter


def _controllers() -> tuple[Any, Any]:
    global _pools, _modules_seen
    if _pools is None or len(sys.modules) != _modules_seen:
        from threadpoolctl import ThreadpoolController

        blas = ThreadpoolController().select(user_api="blas")
        shared = blas.select(threading_layer="pthreads")
        per_thread = blas.select(threading_layer="openmp")
        _pools, _modules_seen = (shared, per_thread), len(sys.modules)
    return _pools


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread per call while inside (nested and concurrent uses share
    the limit; it is lifted when the last of them is done)."""
    global _active, _shared_limit
    depth = getattr(_here, "depth", 0)
    with _lock:
        shared, per_thread = _controllers()
        if _active == 0:
            _shared_limit = shared.limit(limits=1)
        _active += 1
    if depth == 0:
        _here.limit = per_thread.limit(limits=1)
    _here.depth = depth + 1
    try:
        yield
    finally:
        _here.depth = depth
        if depth == 0:
            _here.limit.restore_original_limits()
            _here.limit = None
        with _lock:
            _active -= 1
            if _active == 0:
                _shared_limit.restore_original_limits()
                _shared_limit = None


def one_blas_thread_for_the_process() -> None:
    """Limit every BLAS pool to one thread for the rest of the process, from this thread.

    For a server answering from many threads (the UI): a limit set by a worker thread does
    not reach the pools of the others, and may not hold in OpenBLAS at all, while one set
    here, before the workers ask, holds for all of them (measured: with two other processes
    spinning, 8 threads asking at once, answer p50 670 ms with the per-question limit alone,
    80 ms with this one)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
