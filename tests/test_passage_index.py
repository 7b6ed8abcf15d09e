"""The passage index behind RAG_STORE: same answers on every store, no duplicates, deletions;
the same for the answer sentences' vectors (a memory-mapped file, or a Qdrant collection)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import rag
import rag.index.build
from helpers.shared import SharedIndexes
from helpers.stores import (
    QDRANT_TEST_URL,
    close_stores,
    needs_qdrant,
    needs_qdrant_client,
    on_store,
)
from rag.answer.ranking import rank_sentences
from rag.cli import main
from rag.corpus.text import search_terms
from rag.errors import ConfigError, IndexBusyError
from rag.index.build import build_index, load_current
from rag.index.embeddings import HashEmbedder
from rag.index.passage_index import point_id, sentence_id, term_id, term_weights
from rag.index.sentence_vectors import MappedSentenceVectors, StoredSentenceVectors
from rag.index.store import IndexStore
from rag.query import Query
from rag.retrieval import hybrid_search

pytestmark = pytest.mark.usefixtures("clean_rag_env")

QDRANT_STORES = [
    pytest.param("qdrant-edge", marks=needs_qdrant),
    pytest.param("qdrant", marks=needs_qdrant_client),
]
QUESTIONS = [
    "Как Песков охарактеризовал разговор?",
    "Who is Rashad Nabiyev?",
    "Azerbaijan Russia Iran Trilateral Railway Memorandum",
    "Uniper",
    "сколько тонн грузов",
    "Баку",
]


def _searches(settings: rag.Settings) -> list[dict[str, object]]:
    """Per question: each side's {row: score} at depth 50, and the hybrid top 3."""
    assistant = rag.Assistant(settings)
    assistant.build_index()
    store = assistant.store()
    index, rows = store.passage_index, store.row_of
    found = []
    for question, vector in zip(QUESTIONS, assistant.embedder.encode(QUESTIONS), strict=True):
        terms = search_terms(question)
        hits = hybrid_search(store, Query.parse(question, vector), k=3)
        found.append(
            {
                "dense": {rows[p]: round(s, 4) for p, s in index.dense_search(vector, 50)},
                "sparse": {rows[p]: round(s, 3) for p, s in index.sparse_search(terms, 50)},
                "hybrid": [(h.row, round(h.dense, 4), round(h.lexical, 3)) for h in hits],
            }
        )
    return found


def _sentence_points(store: IndexStore) -> int:
    """How many sentence vectors the store holds (a Qdrant collection's points, else rows)."""
    vectors = store.sentence_vectors
    return vectors.index.count() if isinstance(vectors, StoredSentenceVectors) else vectors.shape[0]


def _holds(settings: rag.Settings) -> tuple[str, int, int]:
    """What a test could change in an index: its current manifest, its points, its sentences."""
    store = load_current(settings)
    manifest = (store.path / "manifest.json").read_text("utf-8")
    return manifest, store.passage_index.count(), _sentence_points(store)


@pytest.fixture(scope="module")
def _edge_twin(request: pytest.FixtureRequest, shared_indexes: SharedIndexes) -> rag.Settings:
    """The shared article corpus indexed on qdrant-edge as well, once per module."""
    faiss = shared_indexes.settings(request)
    settings = on_store(faiss, "qdrant-edge", index_dir=faiss.index_dir.parent / "q-edge")
    build_index(settings, HashEmbedder())
    return settings


@pytest.fixture
def twin(
    request: pytest.FixtureRequest, shared_index: Callable[..., rag.Settings], tmp_path: Path
) -> Iterator[Callable[[str], rag.Settings]]:
    """``twin(store)``: the shared article corpus (``shared_index()``) indexed on ``store``,
    for the tests that only read and compare what the stores hold.

    The qdrant-edge shard, on disk, is built once per module and checked after each test
    (the test fails if it changed it); qdrant's collection, in qdrant-client's local mode, goes
    with its client when any test closes the stores, so it is built per test in ``tmp_path``.
    """
    used: list[tuple[rag.Settings, tuple[str, int, int]]] = []

    def settings(store: str) -> rag.Settings:
        if store == "qdrant-edge":
            edge = request.getfixturevalue("_edge_twin")
            used.append((edge, _holds(edge)))
            return edge
        built = on_store(shared_index(), store, index_dir=tmp_path / "q")
        build_index(built, HashEmbedder())
        return built

    yield settings
    for edge, held in used:
        assert _holds(edge) == held, "a test changed the shared qdrant-edge twin"


def _add_extra(settings: rag.Settings) -> Path:
    extra = settings.docs_dir / "extra.md"
    extra.write_text("# A second document\n\nThe port of Alat handles ferries.\n", "utf-8")
    return extra


def test_point_ids_and_term_ids_are_stable_and_distinct() -> None:
    assert point_id("article", 0, 10, "text") == point_id("article", 0, 10, "text")
    assert point_id("article", 0, 10, "text") != point_id("article", 0, 10, "text!")
    assert 0 <= point_id("a", 0, 1, "x") < 2**63
    assert sentence_id(7, 0, 10) == sentence_id(7, 0, 10) != sentence_id(7, 0, 11)
    assert sentence_id(7, 0, 10) != sentence_id(8, 0, 10) and 0 <= sentence_id(7, 0, 1) < 2**63
    assert term_id("песков") == term_id("песков") != term_id("пескова")
    weights = term_weights(["баку", "баку", "газ"], average_length=3.0)
    assert weights[term_id("баку")] > weights[term_id("газ")] > 0


def test_the_store_is_recorded_and_a_rebuild_keeps_one_point_per_passage(
    store_settings: rag.Settings,
) -> None:
    build_index(store_settings, HashEmbedder())
    build_index(store_settings, HashEmbedder(), force=True)
    build_index(store_settings, HashEmbedder(), force=True)
    store = load_current(store_settings)
    assert store.manifest["store"] == store_settings.store
    assert store.passage_index.count() == len(store.passages) == len(set(store.point_ids))
    assert _sentence_points(store) == len(store.sentence_rows) == len(set(_sentence_ids(store)))


def _sentence_ids(store: IndexStore) -> list[int]:
    return [
        sentence_id(int(store.point_ids[n]), int(s), int(e))  # type: ignore[index]
        for n, s, e in store.sentence_rows
    ]


def test_a_removed_document_leaves_no_points(store_settings: rag.Settings) -> None:
    first = build_index(store_settings, HashEmbedder())
    extra = _add_extra(store_settings)
    with_extra = build_index(store_settings, HashEmbedder())
    assert with_extra.passages > first.passages
    loaded = load_current(store_settings)
    assert loaded.passage_index.count() == with_extra.passages
    sentences = _sentence_points(loaded)
    extra.unlink()
    build_index(store_settings, HashEmbedder())
    store = load_current(store_settings)
    assert set(store.docs) == {"article"}
    assert store.passage_index.count() == len(store.passages) == first.passages
    assert _sentence_points(store) == len(store.sentence_rows) < sentences


def test_an_edited_passage_replaces_its_point(store_settings: rag.Settings) -> None:
    build_index(store_settings, HashEmbedder())
    path = store_settings.docs_dir / "article.ru.txt"
    path.write_text(path.read_text("utf-8").replace("зависимой", "очень зависимой"), "utf-8")
    build_index(store_settings, HashEmbedder())
    store = load_current(store_settings)
    assert store.passage_index.count() == len(store.passages)
    hits = rag.Assistant(store_settings).retrieve("очень зависимой", k=3)
    assert any("очень зависимой" in p.text for p in hits)


@pytest.mark.parametrize("store", QDRANT_STORES)
def test_qdrant_scores_as_faiss(
    shared_index: Callable[..., rag.Settings], twin: Callable[[str], rag.Settings], store: str
) -> None:
    # Same cosines, same BM25 scores (bm25s's, from the engine's IDF). Passages whose BM25
    # scores tie may come in another order, so only the hybrid top 3 is compared in order.
    faiss = _searches(shared_index())
    qdrant = _searches(twin(store))
    for question, want, got in zip(QUESTIONS, faiss, qdrant, strict=True):
        assert got["dense"] == want["dense"], question
        assert got["sparse"] == want["sparse"], question
        assert got["hybrid"] == want["hybrid"], question


def test_the_faiss_sentence_vectors_are_memory_mapped(
    shared_index: Callable[..., rag.Settings],
) -> None:
    store = load_current(shared_index())
    vectors = store.sentence_vectors
    assert isinstance(vectors, MappedSentenceVectors)
    assert isinstance(vectors._array, np.memmap)
    saved = np.load(store.path / "sentences.npy")
    rows = np.arange(len(saved))
    assert np.array_equal(vectors[rows], saved) and np.array_equal(vectors[3], saved[3])


@pytest.mark.parametrize("store", QDRANT_STORES)
def test_qdrant_holds_the_sentence_vectors_as_faiss_does(
    shared_index: Callable[..., rag.Settings], twin: Callable[[str], rag.Settings], store: str
) -> None:
    faiss = load_current(shared_index())
    qdrant = load_current(twin(store))
    assert not (qdrant.path / "sentences.npy").exists()
    rows = np.arange(len(faiss.sentence_rows))
    assert np.array_equal(qdrant.sentence_vectors[rows], faiss.sentence_vectors[rows])
    assert qdrant.sentence_vectors[5].tobytes() == faiss.sentence_vectors[5].tobytes()
    assert qdrant.sentence_vectors[[]].shape == (0, faiss.dim)


@pytest.mark.parametrize("store", QDRANT_STORES)
def test_ranking_reads_a_questions_sentence_vectors_in_one_request(
    twin: Callable[[str], rag.Settings], store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assistant = rag.Assistant(twin(store))
    assistant.build_index()
    loaded = assistant.store()
    vectors = loaded.sentence_vectors
    assert isinstance(vectors, StoredSentenceVectors)
    calls: list[int] = []
    read = vectors.index.vectors
    monkeypatch.setattr(vectors.index, "vectors", lambda ids: calls.append(len(ids)) or read(ids))
    question = "Как Песков охарактеризовал разговор?"
    query = Query.parse(question, assistant.embedder.encode([question])[0])
    ranked = rank_sentences(loaded, query, hybrid_search(loaded, query, k=8), assistant.profile)
    assert ranked and len(calls) == 1 and calls[0] > 1


@pytest.mark.parametrize("store", QDRANT_STORES)
def test_qdrant_answers_as_faiss(
    shared_assistant: rag.Assistant,
    twin: Callable[[str], rag.Settings],
    store: str,
    dev_set: list[dict[str, object]],
) -> None:
    faiss = shared_assistant
    qdrant = rag.Assistant(twin(store))
    for question in [*QUESTIONS, *(str(item["question"]) for item in dev_set[:8])]:
        assert qdrant.query(question).text == faiss.query(question).text, question


def test_a_build_killed_before_the_swap_leaves_the_shard_serving_the_previous_build(
    store_settings: rag.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    if store_settings.store == "faiss":
        pytest.skip("the faiss store writes each build into its own folder")
    build_index(store_settings, HashEmbedder())
    before = load_current(store_settings)
    passages = len(before.passages)
    _add_extra(store_settings)

    def killed(*args: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(rag.index.build, "_swap_in", killed)
        with pytest.raises(KeyboardInterrupt):
            build_index(store_settings, HashEmbedder())
    # The new passages are in the shard, but the current build knows none of them...
    assert before.passage_index.count() > passages
    # ... so it still answers, from its own passages only (the shard's new points are skipped).
    vector = HashEmbedder().encode(["port of Alat ferries"])[0]
    hits = hybrid_search(before, Query.parse("port of Alat ferries", vector), k=5)
    assert len(hits) == 5 and all(0 <= h.row < passages for h in hits)
    # ... and the next complete build leaves exactly its own.
    build_index(store_settings, HashEmbedder())
    store = load_current(store_settings)
    assert store.passage_index.count() == len(store.passages) > passages


@pytest.mark.parametrize("store", QDRANT_STORES)
def test_rag_index_twice_leaves_the_point_count_unchanged(
    hash_settings: rag.Settings,
    store: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    settings = on_store(hash_settings, store)
    monkeypatch.setenv("RAG_DOCS_DIR", str(settings.docs_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("RAG_EMBED_MODEL", "hash")
    monkeypatch.setenv("RAG_STORE", store)
    monkeypatch.setenv("RAG_QDRANT_URL", QDRANT_TEST_URL)  # the same client, in this process
    counts = []
    for args in (["index"], ["index"], ["index", "--force"]):
        assert main(args) == 0
        store = load_current(settings)
        counts.append((store.passage_index.count(), _sentence_points(store)))
    current = load_current(settings)
    assert counts == [(current.manifest["counts"]["passages"], len(current.sentence_rows))] * 3


@pytest.mark.parametrize(
    ("store", "module", "extra"),
    [("qdrant-edge", "qdrant_edge", "qdrant"), ("qdrant", "qdrant_client", "qdrant-server")],
)
def test_a_qdrant_store_without_its_package_names_the_install(
    hash_settings: rag.Settings,
    monkeypatch: pytest.MonkeyPatch,
    store: str,
    module: str,
    extra: str,
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed

    def embedding(*args: object) -> None:
        raise AssertionError("embedded before checking the store's package")

    monkeypatch.setattr(rag.index.build, "_embed_all", embedding)
    with pytest.raises(ConfigError, match=rf"pip install 'rag-footnotes\[{extra}\]'"):
        build_index(on_store(hash_settings, store), HashEmbedder())


def test_an_unknown_store_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="RAG_STORE"):
        rag.settings.load_settings(store="milvus")


@needs_qdrant
def test_a_shard_open_in_another_process_is_a_busy_error_naming_the_fix(
    hash_settings: rag.Settings,
) -> None:
    from rag.index.qdrant_index import shard_dir

    settings = hash_settings.model_copy(update={"store": "qdrant-edge"})
    build_index(settings, HashEmbedder())
    close_stores()  # as if this were another process than the one holding the shard
    shard = shard_dir(settings.index_dir, "hash", HashEmbedder().dim)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SHARD, str(shard)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(IndexBusyError, match="open in another process"):
            build_index(settings, HashEmbedder(), force=True)
    finally:
        holder.kill()
        holder.wait()
    assert build_index(settings, HashEmbedder(), force=True).rebuilt  # free again


HOLD_SHARD = """
import sys, time
import qdrant_edge
shard = qdrant_edge.EdgeShard.load(sys.argv[1])
print("holding", flush=True)
time.sleep(60)
"""
