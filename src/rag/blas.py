"""One BLAS thread while questions are answered.

Answering multiplies small matrices (a question's words against the corpus lexicon, a
question against a passage's sentences). On such products OpenBLAS's thread pool only adds
hand-offs, and when several questions are answered at once the pools of all of them fight
for the cores: with 8 threads asking at once on 2 cores, the answer p50 was 0.8-1.4 s, and
73 ms with this limit. So while any question is being answered, the BLAS pools the whole
process shares (OpenBLAS on pthreads: numpy's) run on the calling thread alone; the encoder
sets its own limit for its forward pass, and the process's limit comes back when the last
question is done. (A pool on OpenMP, faiss's, is per thread and left as it is.)
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["one_blas_thread"]

_lock = threading.Lock()
_active = 0
_limiter: Any = None  # the threadpoolctl limiter holding the limit while _active > 0
_controller: Any = None  # the shared pools threadpoolctl found (inspecting costs ~0.5 ms)
_modules_seen = 0  # len(sys.modules) then: a native library comes with a new import


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread per call while inside (nested and concurrent uses share
    one limit, set by the first to enter and lifted by the last to leave)."""
    global _active, _limiter, _controller, _modules_seen
    with _lock:
        if _active == 0:
            if _controller is None or len(sys.modules) != _modules_seen:
                from threadpoolctl import ThreadpoolController

                shared = ThreadpoolController().select(threading_layer="pthreads")
                _controller, _modules_seen = shared, len(sys.modules)
            _limiter = _controller.limit(limits=1)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                _limiter.restore_original_limits()
                _limiter = None
