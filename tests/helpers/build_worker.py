"""Index builds in child processes that a test can SIGKILL at a chosen moment.

    python build_worker.py

Imports the package once, prints ``ready``, then reads one job per stdin line::

    NAME<TAB>STAGE<TAB>DOCS_DIR<TAB>INDEX_DIR

and forks a child per job (so each build costs no interpreter start-up), printing
``NAME pid PID``. The child rebuilds the index (``force=True``, ``hash`` embedder) and prints
``NAME started``, then ``NAME at STAGE`` when it reaches STAGE, where it waits to be killed:

* ``embedding`` - the first batch of sentences is being embedded (the build lock is held);
* ``writing``   - the new build folder is half written (FAISS and docstore saved, BM25 not);
* ``manifest``  - the build is complete with its manifest, ``current`` not yet swapped;
* ``cleanup``   - ``current`` points at the new build, older builds are being removed;
* ``none``      - no pause: the test kills it after a delay, wherever it is.

A child that finishes prints ``NAME done``. When stdin closes, the server reaps its children,
prints ``NAME exit STATUS`` for each (negative: killed by that signal) and exits.
Nothing here touches the network.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import bm25s
import faiss  # noqa: F401 - imported before forking, so children start warm
import llama_index.core  # noqa: F401
import razdel  # noqa: F401
from llama_index.vector_stores.faiss import FaissVectorStore  # noqa: F401

import rag
import rag.index.build
from rag.corpus.tokens import count_tokens
from rag.index.embeddings import HashEmbedder

PAUSE_SECONDS = 120  # far longer than any test waits: the test kills the child first


def say(line: str) -> None:
    os.write(1, (line + "\n").encode())  # one write per line: children share the pipe


def run_job(name: str, stage: str, docs_dir: str, index_dir: str) -> None:
    def pause(*_args: object, **_kwargs: object) -> None:
        say(f"{name} at {stage}")
        time.sleep(PAUSE_SECONDS)

    class PausingEmbedder(HashEmbedder):
        def encode(self, texts):  # type: ignore[no-untyped-def]
            vectors = super().encode(texts)
            pause()
            return vectors

    embedder: HashEmbedder = PausingEmbedder() if stage == "embedding" else HashEmbedder()
    if stage == "writing":
        bm25s.BM25.save = pause  # type: ignore[method-assign]
    elif stage == "manifest":
        rag.index.build._swap_in = pause  # type: ignore[attr-defined]
    elif stage == "cleanup":
        shutil.rmtree = pause  # type: ignore[assignment]
    settings = rag.Settings(
        docs_dir=Path(docs_dir), index_dir=Path(index_dir), embed_model="hash", llm="none",
        top_k=5, chunk_tokens=160,
    )  # fmt: skip
    say(f"{name} started")
    rag.index.build.build_index(settings, embedder, force=True)
    say(f"{name} done")


def serve() -> None:
    count_tokens("warm up")  # loads the tokenizer before forking
    children: dict[int, str] = {}
    say("ready")
    for line in sys.stdin:
        name, stage, docs_dir, index_dir = line.rstrip("\n").split("\t")
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                run_job(name, stage, docs_dir, index_dir)
            except BaseException as err:
                say(f"{name} error {type(err).__name__}: {err}")
                code = 1
            finally:
                os._exit(code)
        children[pid] = name
        say(f"{name} pid {pid}")
    for pid, name in children.items():
        _, status = os.waitpid(pid, 0)
        say(f"{name} exit {os.waitstatus_to_exitcode(status)}")


if __name__ == "__main__":
    serve()
