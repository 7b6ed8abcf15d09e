"""Shared fixtures: the article, temporary corpora, hash settings, real-embedder assistants.

Unit tests use the deterministic ``hash`` embedder and a fresh index in ``tmp_path``. Tests
marked ``integration`` share one real multilingual embedder and indexes built once per session.
Nothing here writes to the repository's ``docs/`` or ``index/``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import rag
from rag.documents import Document, parse_document
from rag.embeddings import Embedder

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


def make_corpus(root: Path, *, with_source_iii: bool = False) -> Path:
    """A writable docs folder under ``root`` holding a copy of the article."""
    docs = root / "docs"
    docs.mkdir(parents=True)
    target = docs / ARTICLE_PATH.name
    shutil.copyfile(ARTICLE_PATH, target)
    target.chmod(0o644)  # the repository's copy is read-only; tests edit theirs
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


@pytest.fixture
def clean_rag_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``RAG_*`` variable from the outer environment, and no cached default assistant."""
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)
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


# -- every passage store: tests that take ``store_settings`` run on each ----------------------

needs_qdrant = pytest.mark.skipif(
    importlib.util.find_spec("qdrant_edge") is None,
    reason="qdrant-edge-py is not installed: pip install 'rag-footnotes[qdrant]'",
)
STORES = ["faiss", pytest.param("qdrant-edge", marks=needs_qdrant)]


def close_stores() -> None:
    """Close the embedded shards this process opened (each holds a lock and threads)."""
    if importlib.util.find_spec("qdrant_edge") is not None:
        from rag.qdrant_index import close_all

        close_all()


@pytest.fixture(params=STORES)
def store_settings(request: pytest.FixtureRequest, hash_settings: rag.Settings) -> Any:
    """``hash_settings`` on each passage store (``RAG_STORE``) in turn."""
    yield hash_settings.model_copy(update={"store": request.param})
    close_stores()


# -- the real multilingual embedder, loaded once -------------------------------------------


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    from rag.embeddings import make_embedder

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
