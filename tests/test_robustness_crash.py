"""Robustness, issue 7 item 3 (continued): a build killed with SIGKILL, and builds at once.

A rebuild killed at any moment must leave the previous index loading and answering, and the
next build must succeed (the dead process's lock is gone with it). Two rebuilds at once must
both succeed, one after the other, behind the file lock; a lock held too long is an
``IndexBusyError`` that says what to do.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

import rag
import rag.index.build
from helpers.shared import assert_answer_contract, make_corpus, settings_for
from rag.errors import IndexBusyError
from rag.index.build import build_index, index_status, load_current
from rag.index.embeddings import HashEmbedder
from rag.index.store import IndexStore

WORKER = Path(__file__).resolve().parent / "helpers" / "build_worker.py"
QUESTION = "Как Песков охарактеризовал разговор?"
SYNTHETIC_QUESTION = "Что перевозит паром Велна-7?"
# Stages a child build pauses at to be killed (see helpers/build_worker.py), then kills at a
# share of a whole build's time, wherever the build happens to be.
STAGES = ["embedding", "writing", "manifest", "cleanup"]
SHARES = [0.2, 0.45, 0.7]
ALL = [*STAGES, *(f"at-{round(100 * share)}%" for share in SHARES)]
PARAGRAPHS = 600  # ~1,800 sentences: long enough for the timed kills to land apart


def synthetic_corpus(paragraphs: int, seed: int = 7) -> str:
    """Short paragraphs of plausible Russian, plus one findable fact."""
    rng = random.Random(seed)
    words = (
        "Песков Алиев Путин разговор газ нефть транзит коридор Баку Москва договор санкции "
        "экспорт грузы тонн порт железная дорога переговоры визит союз тариф терминал"
    ).split()
    out = ["Паром Велна-7 перевозит контейнеры и зерно между Баку и Актау."]
    for n in range(paragraphs):
        sentences = [
            " ".join(rng.choices(words, k=11)).capitalize() + f" {n}-{k}." for k in range(3)
        ]
        out.append(" ".join(sentences))
    return "\n\n".join(out) + "\n"


@dataclass
class Killed:
    """One child build's story: where it was killed, and what was current before."""

    name: str
    settings: rag.Settings
    previous: Path
    pid: int = 0
    exit_code: int | None = None
    busy_error: BaseException | None = None
    started: float = 0.0
    state: str = ""  # where the kill left the index (see _state_after_kill)


def _state_after_kill(settings: rag.Settings, previous: Path) -> str:
    """Which stage a kill interrupted, judged from what it left on disk."""
    current = (settings.index_dir / "current").resolve()
    if current != previous:
        return "swapped"
    others = [p for p in (settings.index_dir / "builds").iterdir() if p != previous]
    if not others:
        return "before writing"
    if not (others[0] / "manifest.json").exists():
        return "half written"
    return "complete, not swapped"


class WorkerServer:
    """helpers/build_worker.py: forks builds on request and reports on its stdout."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, env=env,
        )  # fmt: skip
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.strip())
                self._changed.notify_all()
        with self._changed:
            self.lines.append("<eof>")
            self._changed.notify_all()

    def wait_for(self, wanted: str, timeout: float = 60) -> str:
        """The first line starting with ``wanted`` (waiting for it to appear)."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(x.startswith(wanted) or x == "<eof>" for x in self.lines), timeout
            )
            line = next((x for x in self.lines if x.startswith(wanted)), None)
        assert found and line is not None, f"no {wanted!r} from the worker: {self.lines}"
        return line

    def submit(self, name: str, stage: str, settings: rag.Settings) -> int:
        """Start a build; returns the child's pid once it has started building."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{name}\t{stage}\t{settings.docs_dir}\t{settings.index_dir}\n")
        self.proc.stdin.flush()
        pid = int(self.wait_for(f"{name} pid ").split()[-1])
        self.wait_for(f"{name} started")
        return pid

    def finish(self) -> dict[str, int]:
        """Close stdin, let the server reap its children: exit code per job name."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.wait_for("<eof>")
        codes = {}
        for line in self.lines:
            name, _, rest = line.partition(" exit ")
            if rest:
                codes[name] = int(rest)
        return codes


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Killed]:
    """Builds over a good index, each SIGKILLed at its own moment (all at once)."""
    pristine = tmp_path_factory.mktemp("pristine")
    docs = make_corpus(pristine)
    build_index(settings_for(docs, pristine / "index"), HashEmbedder())
    synthetic = synthetic_corpus(PARAGRAPHS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    server = WorkerServer(env)
    cases: dict[str, Killed] = {}
    try:
        server.wait_for("ready")

        def submit(name: str) -> Killed:
            root = tmp_path_factory.mktemp(f"kill-{name}")
            shutil.copytree(pristine, root, dirs_exist_ok=True, symlinks=True)
            settings = settings_for(root / "docs", root / "index")
            previous = (settings.index_dir / "current").resolve()
            (settings.docs_dir / "synthetic.txt").write_text(synthetic, "utf-8")
            case = cases[name] = Killed(name, settings, previous)
            case.pid = server.submit(name, name if name in STAGES else "none", settings)
            case.started = time.monotonic()
            return case

        for name in STAGES:
            submit(name)
        for name in STAGES:
            case = cases[name]
            server.wait_for(f"{name} at {name}")
            if name == "cleanup":  # a whole build, start to swap: the scale for the delays
                whole = time.monotonic() - case.started
            if name == "embedding":  # the child holds the build lock right now
                try:
                    build_index(case.settings, HashEmbedder(), force=True, lock_timeout=0.3)
                except BaseException as err:
                    case.busy_error = err
            os.kill(case.pid, signal.SIGKILL)
        for name, share in zip(ALL[len(STAGES) :], SHARES, strict=True):
            case = submit(name)  # kill it wherever it happens to be after a share of a build
            threading.Timer(share * whole, os.kill, [case.pid, signal.SIGKILL]).start()
        time.sleep(max(SHARES) * whole + 0.2)  # let the timers fire
    finally:
        for case in cases.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(case.pid, signal.SIGKILL)
        codes = server.finish()
    for name, case in cases.items():
        case.exit_code = codes.get(name)
        case.state = _state_after_kill(case.settings, case.previous)
    return cases


@pytest.mark.parametrize("name", ALL)
def test_killed_build_leaves_an_index_that_loads(killed: dict[str, Killed], name: str) -> None:
    case = killed[name]
    # Killed, or (a delayed kill that came too late) finished: both must leave a good index.
    assert case.exit_code in (-signal.SIGKILL, 0), case.exit_code
    current = (case.settings.index_dir / "current").resolve()
    store = IndexStore.load(case.settings.index_dir / "current")  # no IndexError_
    expected = {
        "embedding": "before writing",
        "writing": "half written",
        "manifest": "complete, not swapped",
        "cleanup": "swapped",
    }
    if name in expected:
        assert case.state == expected[name]
    if case.state == "swapped":
        assert "synthetic.txt" in store.manifest["files"], "the new build is current"
    else:
        assert current == case.previous, "a build killed before the swap changes nothing"
        assert "synthetic.txt" not in store.manifest["files"]
    # Whatever was current, it is a complete build: manifest, FAISS, BM25, sentences agree.
    assert store.faiss_index.ntotal == len(store.passages) > 0


@pytest.mark.parametrize("name", ALL)
def test_previous_index_answers_after_the_kill(killed: dict[str, Killed], name: str) -> None:
    case = killed[name]
    before = (case.settings.index_dir / "current").resolve()
    moved = case.settings.docs_dir / "synthetic.txt"
    parked = moved.with_suffix(".parked")
    moved.rename(parked)  # docs/ as the previous index knew them
    try:
        assistant = rag.Assistant(case.settings)
        answer = assistant.query(QUESTION)
        assert_answer_contract(answer, assistant)
        assert not answer.abstained
        if before == case.previous:  # the old build was intact: served as is, not rebuilt
            assert (case.settings.index_dir / "current").resolve() == before
    finally:
        parked.rename(moved)


@pytest.mark.parametrize("name", ALL)
def test_a_later_build_succeeds_and_clears_the_debris(killed: dict[str, Killed], name: str) -> None:
    case = killed[name]
    stats = build_index(case.settings, HashEmbedder(), force=True, lock_timeout=5)  # lock free
    assert stats.rebuilt and stats.documents == 2
    assert index_status(case.settings, HashEmbedder().dim).state == "ok"
    builds = list((case.settings.index_dir / "builds").iterdir())
    assert builds == [(case.settings.index_dir / "current").resolve()]
    assert not list(case.settings.index_dir.glob(".current-*")), "no stray temporary links"
    assistant = rag.Assistant(case.settings)
    answer = assistant.query(SYNTHETIC_QUESTION)
    assert_answer_contract(answer, assistant)
    assert any("Велна-7" in c.text for c in answer.citations)


def test_a_build_running_in_another_process_is_a_busy_error(killed: dict[str, Killed]) -> None:
    err = killed["embedding"].busy_error
    assert isinstance(err, IndexBusyError), err
    assert isinstance(err, rag.RagError)
    assert ".build.lock" in str(err) and "wait" in str(err)


# -- two rebuilds at once -------------------------------------------------------------------


def test_two_rebuilds_at_once_both_succeed_one_after_the_other(
    hash_settings: rag.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(hash_settings, HashEmbedder())
    active, overlaps = [0], [0]
    guard = threading.Lock()
    real_build = rag.index.build._build

    def tracked(*args, **kwargs):  # type: ignore[no-untyped-def]
        with guard:
            active[0] += 1
            overlaps[0] = max(overlaps[0], active[0])
        try:
            time.sleep(0.2)  # widen the window in which a second build could slip in
            return real_build(*args, **kwargs)
        finally:
            with guard:
                active[0] -= 1

    monkeypatch.setattr(rag.index.build, "_build", tracked)
    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(lambda _: build_index(hash_settings, HashEmbedder(), force=True), range(2))
        )
    assert all(r.rebuilt for r in results)
    assert overlaps[0] == 1, "the file lock lets one build run at a time"
    assert index_status(hash_settings, HashEmbedder().dim).state == "ok"
    assert len(list((hash_settings.index_dir / "builds").iterdir())) == 1
    assistant = rag.Assistant(hash_settings)
    assert_answer_contract(assistant.query(QUESTION), assistant)


def test_two_assistants_rebuilding_while_others_ask(hash_settings: rag.Settings) -> None:
    """Rebuilds by two assistants, questions from a third: no error, every answer valid."""
    build_index(hash_settings, HashEmbedder())
    builders = [rag.Assistant(hash_settings), rag.Assistant(hash_settings)]
    reader = rag.Assistant(hash_settings)
    expected = reader.query(QUESTION)
    stop = threading.Event()
    errors: list[BaseException] = []

    def ask() -> int:
        asked = 0
        while not stop.is_set():
            try:
                assert reader.query(QUESTION).text == expected.text
            except BaseException as err:  # collected: any error fails the test below
                errors.append(err)
            asked += 1
        return asked

    with ThreadPoolExecutor(4) as pool:
        readers = [pool.submit(ask) for _ in range(2)]
        rebuilds = [pool.submit(b.build_index, force=True) for b in builders]
        stats = [f.result(timeout=60) for f in rebuilds]
        stop.set()
        asked = sum(f.result(timeout=60) for f in readers)
    assert not errors, errors[:3]
    assert asked > 0 and all(s.rebuilt for s in stats)
    load_current(hash_settings)


def test_a_lock_held_past_the_timeout_is_a_busy_error(hash_settings: rag.Settings) -> None:
    from filelock import FileLock

    hash_settings.index_dir.mkdir(parents=True)
    held = FileLock(str(hash_settings.index_dir / ".build.lock"))
    held.acquire()
    try:
        started = time.monotonic()
        with pytest.raises(IndexBusyError) as caught:
            build_index(hash_settings, HashEmbedder(), lock_timeout=0.5)
        assert 0.4 < time.monotonic() - started < 5
        assert "rebuilding" in str(caught.value) and ".build.lock" in str(caught.value)
    finally:
        held.release()
    assert build_index(hash_settings, HashEmbedder(), lock_timeout=1).rebuilt
