"""Shared fixtures: the article, temporary corpora, hash settings, real-embedder assistants.

Unit tests use the deterministic ``hash`` embedder. A test that changes its corpus or index
builds its own in ``tmp_path`` (``hash_assistant``, ``hash_settings``); a test that only reads
one takes a shared one (``shared_assistant``, ``shared_index``), built once per session and
checked after every test that used it. Tests marked ``integration`` share one real
multilingual embedder and indexes built once per session. Every test runs without the outer
``RAG_*`` variables. Nothing here writes to the repository's ``docs/`` or ``index/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from threadpoolctl import threadpool_limits

import rag
from helpers.stores import STORES, close_stores
from rag.corpus.documents import Document, parse_document
from rag.index.embeddings import Embedder

ROOT = Path(__file__).resolve().parents[1]
ARTICLE_PATH = ROOT / "docs" / "article.ru.txt"
DEV_SET_PATH = Path(__file__).resolve().parent / "data" / "dev.jsonl"

# The TASS report behind footnote [iii], saved "by hand" the way `rag fetch` saves a source.
SOURCE_III = """\
---
label: iii
url: https://tass.ru/politika/26006283
title: Песков назвал разговор Путина и Алиева очень теплым и нужным
fetched: 2025-12-24T12:00:00+00:00
---

# Песков назвал разговор Путина и Алиева очень теплым и нужным

Пресс-секретарь президента России Дмитрий Песков назвал телефонный разговор Владимира \
Путина и Ильхама Алиева очень теплым и нужным. По его словам, лидеры обсудили региональную \
ситуацию.

Песков также сообщил журналистам, что президенты договорились продолжить личные контакты \
в новом году.
"""


def copy_article(docs: Path) -> None:
    """A writable copy of the article in the folder ``docs``."""
    target = docs / ARTICLE_PATH.name
    shutil.copyfile(ARTICLE_PATH, target)
    target.chmod(0o644)  # the repository's copy is read-only; tests edit theirs


def make_corpus(root: Path, *, with_source_iii: bool = False) -> Path:
    """A writable docs folder under ``root`` holding a copy of the article."""
    docs = root / "docs"
    docs.mkdir(parents=True)
    copy_article(docs)
    if with_source_iii:
        (docs / "sources").mkdir()
        (docs / "sources" / "iii.md").write_text(SOURCE_III, "utf-8")
    return docs


def settings_for(docs_dir: Path, index_dir: Path, **overrides: Any) -> rag.Settings:
    """Settings with every value that shapes results given explicitly (no RAG_* leaks in)."""
    values: dict[str, Any] = {
        "docs_dir": docs_dir,
        "index_dir": index_dir,
        "embed_model": "hash",
        "llm": "none",
        "top_k": 5,
        "chunk_tokens": 160,
    }
    values.update(overrides)
    return rag.Settings(**values)


MEMORY_DISK = Path("/dev/shm")


def pytest_configure(config: pytest.Config) -> None:
    """``tmp_path`` and ``tmp_path_factory`` folders in memory, where the machine has /dev/shm.

    A build syncs to disk as it writes (SQLite commits, the Qdrant shard's flush): on this
    machine's shared disk that was ~15 s of the fast suite's 85. No test is about what
    survives a power cut, so the folders may as well live in memory. pytest's own location
    (``PYTEST_DEBUG_TEMPROOT``, ``--basetemp``) wins when given; pyproject.toml keeps one
    session's folders, not three (~1.7 GB of memory each).
    """
    if (
        config.option.basetemp is None
        and "PYTEST_DEBUG_TEMPROOT" not in os.environ
        and MEMORY_DISK.is_dir()
        and os.access(MEMORY_DISK, os.W_OK)
    ):
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(MEMORY_DISK)


def _drop_rag_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session", autouse=True)
def _no_rag_env_for_the_session() -> Iterator[None]:
    """The outer ``RAG_*`` variables are gone before any fixture runs, module-scoped ones too.

    Modules read what they need of them at import (tests/test_llm_real.py), before this.
    """
    with pytest.MonkeyPatch.context() as monkeypatch:
        _drop_rag_variables(monkeypatch)
        yield


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread_per_call() -> Iterator[None]:
    """Each BLAS call (numpy's OpenBLAS, faiss's) runs on the calling thread alone.

    Query-time products are tiny (a question's words against the lexicon: 4 x 1024 by
    1024 x 657), and OpenBLAS's own pool only adds hand-offs: on this 2-core machine, and
    worse when it is shared or 8 test threads ask at once, one such product took 48 ms
    instead of 1 ms. Answering limits itself so since (rag.blas, tests/test_blas.py); this
    covers the rest (builds, direct calls) and saves the suite ~10 s of CPU. The results are
    the same either way; child processes the tests start keep the library default.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(autouse=True)
def clean_rag_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test: no ``RAG_*`` variable from outside it, and no cached default assistant.

    Autouse; a test sets the variables it wants with ``monkeypatch.setenv``, undone after it.
    """
    _drop_rag_variables(monkeypatch)  # also any a previous test set without monkeypatch
    monkeypatch.setattr(rag, "_default", None)


@pytest.fixture(scope="session")
def source_iii_text() -> str:
    """A hand-saved source file for footnote [iii], with ``rag fetch``'s front matter."""
    return SOURCE_III


@pytest.fixture(scope="session")
def article_text() -> str:
    return ARTICLE_PATH.read_text("utf-8")


@pytest.fixture(scope="session")
def article_doc(article_text: str) -> Document:
    return parse_document("article", ARTICLE_PATH.name, article_text)


@pytest.fixture(scope="session")
def dev_set() -> list[dict[str, Any]]:
    lines = DEV_SET_PATH.read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture
def tmp_corpus(tmp_path: Path) -> Path:
    """``tmp_path/docs`` with a writable copy of the article."""
    return make_corpus(tmp_path)


@pytest.fixture
def hash_settings(tmp_path: Path, tmp_corpus: Path) -> rag.Settings:
    """Settings for the article corpus in ``tmp_path`` with the fast ``hash`` embedder."""
    return settings_for(tmp_corpus, tmp_path / "index")


@pytest.fixture
def hash_assistant(hash_settings: rag.Settings) -> rag.Assistant:
    """An assistant over the temporary article corpus, index built."""
    assistant = rag.Assistant(hash_settings)
    assistant.build_index()
    return assistant


# -- hash indexes shared by the tests that only read them ----------------------------------

Fill = Callable[[Path], None]


def _fingerprint(settings: rag.Settings) -> dict[str, object]:
    """What a test could change: every document's bytes, every index file's size and time."""
    seen: dict[str, object] = {}
    for top, content in ((settings.docs_dir, True), (settings.index_dir, False)):
        for path in sorted(top.rglob("*")):
            if path.name == ".build.lock":  # taken (and touched) by every build_index call
                continue
            if path.is_symlink():
                value: object = ("link", os.readlink(path))
            elif path.is_dir():
                value = "dir"
            elif content:
                value = path.read_bytes()
            else:
                info = path.stat()
                value = (info.st_size, info.st_mtime_ns)
            seen[str(path.relative_to(top.parent))] = value  # docs/…, index/…
    return seen


class SharedIndexes:
    """Corpora with their ``hash`` index, each built once per session, for read-only tests.

    A corpus is known by its name (with the settings overrides it was built with); the first
    test to ask for it builds it. After each test (or module) that used one, it is compared with
    what was built: a test that changed it fails, and the next one gets a fresh build.
    """

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self._built: dict[tuple[object, ...], tuple[rag.Settings, dict[str, object]]] = {}

    def settings(
        self,
        request: pytest.FixtureRequest,
        name: str = "article",
        fill: Fill = copy_article,
        **overrides: Any,
    ) -> rag.Settings:
        """The settings of corpus ``name`` (``fill`` writes it into an empty docs folder),
        checked when ``request``'s test or module is done."""
        key = (name, *sorted(overrides.items()))
        if key not in self._built:
            root = self._factory.mktemp(f"shared-{name}")
            docs = root / "docs"
            docs.mkdir()
            fill(docs)
            settings = settings_for(docs, root / "index", **overrides)
            rag.Assistant(settings).build_index()
            self._built[key] = (settings, _fingerprint(settings))
        request.addfinalizer(lambda: self._check(key))
        return self._built[key][0]

    def _check(self, key: tuple[object, ...]) -> None:
        if key not in self._built:
            return  # already found changed (and reported) by an earlier finalizer
        settings, built = self._built[key]
        now = _fingerprint(settings)
        if now != built:
            del self._built[key]
            changed = sorted(p for p in built.keys() | now.keys() if built.get(p) != now.get(p))
            pytest.fail(f"a test changed the shared corpus {key[0]!r}: {changed[:5]}")


@pytest.fixture(scope="session")
def shared_indexes(tmp_path_factory: pytest.TempPathFactory) -> SharedIndexes:
    """For module-scoped fixtures: ``shared_indexes.settings(request)`` (the article)."""
    return SharedIndexes(tmp_path_factory)


@pytest.fixture
def shared_index(
    request: pytest.FixtureRequest, shared_indexes: SharedIndexes
) -> Callable[..., rag.Settings]:
    """``shared_index(name="article", fill=copy_article, **overrides)``: settings of a corpus
    built once per session (``settings_for`` plus ``overrides``). Read it, never change it."""

    def settings(
        name: str = "article", fill: Fill = copy_article, **overrides: Any
    ) -> rag.Settings:
        return shared_indexes.settings(request, name, fill, **overrides)

    return settings


@pytest.fixture
def shared_assistant(shared_index: Callable[..., rag.Settings]) -> rag.Assistant:
    """A fresh assistant over the article's shared index (what ``hash_assistant`` holds)."""
    assistant = rag.Assistant(shared_index())
    assistant.build_index()  # finds it up to date and loads it
    return assistant


# -- every passage store: tests that take ``store_settings`` run on each ----------------------


@pytest.fixture(params=STORES)
def store_settings(request: pytest.FixtureRequest, hash_settings: rag.Settings) -> Any:
    """``hash_settings`` on each passage store (``RAG_STORE``) in turn."""
    yield hash_settings.model_copy(update={"store": request.param})
    close_stores()


# -- the real multilingual embedder, loaded once -------------------------------------------


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    from rag.index.embeddings import make_embedder

    return make_embedder("use-multilingual", threads=2)


def _real_assistant(root: Path, embedder: Embedder, *, with_source_iii: bool) -> rag.Assistant:
    docs = make_corpus(root, with_source_iii=with_source_iii)
    settings = settings_for(docs, root / "index", embed_model="use-multilingual")
    assistant = rag.Assistant(settings, embedder=embedder)
    assistant.build_index()
    return assistant


@pytest.fixture(scope="session")
def real_assistant(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder
) -> rag.Assistant:
    """The article alone, indexed with the real embedder (built once per session)."""
    return _real_assistant(tmp_path_factory.mktemp("real"), real_embedder, with_source_iii=False)


@pytest.fixture(scope="session")
def chain_assistant(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder
) -> rag.Assistant:
    """The article plus a hand-saved ``sources/iii.md``, indexed with the real embedder."""
    return _real_assistant(tmp_path_factory.mktemp("chain"), real_embedder, with_source_iii=True)


# -- the answer contract (DESIGN §2) -----------------------------------------------------------

CITATION_MARKER = re.compile(r"\[(\d+)\]")
# Anything that looks like a document's own footnote marker: [ii], [^3], [12] …
BRACKETED = re.compile(r"\[\^?([^\]\s]{1,8})\]")

AnswerCheck = Callable[[rag.Answer, rag.Assistant], None]


def assert_answer_contract(answer: rag.Answer, assistant: rag.Assistant) -> None:
    """Check an answer the way its reader would: every [n] cited once, citations verbatim."""
    if answer.abstained:
        assert answer.citations == []
        assert not CITATION_MARKER.search(answer.text)
        return
    first_use = list(dict.fromkeys(int(n) for n in CITATION_MARKER.findall(answer.text)))
    markers = [c.marker for c in answer.citations]
    assert markers, "an answer that does not abstain cites something"
    assert markers == list(range(1, len(markers) + 1)), "citations numbered densely from 1"
    assert first_use == markers, "markers appear in the text in citation order, each cited"
    for token in BRACKETED.findall(answer.text):
        assert token.isdigit() and int(token) in markers, f"[{token}] in the text is no citation"
    docs = assistant.store().docs
    for c in answer.citations:
        assert docs[c.doc_id].text[c.start : c.end] == c.text
        assert c.title == docs[c.doc_id].title
        assert c.text.strip()
        assert all(isinstance(note, rag.Footnote) for note in c.footnotes)


@pytest.fixture(scope="session")
def check_answer() -> AnswerCheck:
    """``check_answer(answer, assistant)`` asserts the public answer contract."""
    return assert_answer_contract
