"""The claim -> footnote -> source chain of a loaded build (rag.index.footnote_graph), and the
documents a build holds: the very ``Document``s the build parsed."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from helpers.shared import make_corpus, settings_for
from rag.answer.sentence_features import SentenceFeatures
from rag.corpus.documents import load_documents
from rag.index.build import build_index, load_current
from rag.index.embeddings import HashEmbedder
from rag.index.footnote_graph import link_sources
from rag.index.store import IndexStore

SOURCE = "source-iii"


@pytest.fixture(scope="module")
def docs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("graph"), with_source_iii=True)


@pytest.fixture(scope="module")
def chain_store(docs_dir: Path) -> Iterator[IndexStore]:
    settings = settings_for(docs_dir, docs_dir.parent / "index")
    build_index(settings, HashEmbedder())
    store = load_current(settings)
    yield store
    store.close()


def test_a_build_holds_the_documents_it_parsed(docs_dir: Path, chain_store: IndexStore) -> None:
    docs, _ = load_documents(docs_dir)
    linked = link_sources(docs)
    assert set(chain_store.docs) == {d.doc_id for d in linked} == {"article", SOURCE}
    for doc in linked:
        assert chain_store.docs[doc.doc_id] == replace(doc, warnings=())


def test_a_source_stands_for_the_article_entry_that_points_at_it(
    chain_store: IndexStore,
) -> None:
    graph = chain_store.graph
    note = graph.footnote(SOURCE, "iii")
    assert note == chain_store.docs["article"].footnote("iii")
    assert note.source_doc_id == SOURCE and note.publisher
    assert graph.source_footnotes(SOURCE) == {"iii": note}
    assert graph.footnote(SOURCE, "nope").title == ""  # a bare footnote, never a KeyError


def test_the_claims_under_a_footnote_are_the_sentences_citing_its_source(
    chain_store: IndexStore,
) -> None:
    graph = chain_store.graph
    citing = graph.citing_sentences(SOURCE)
    assert citing
    entry = graph.entry_rows("article")["iii"]
    for sentence, passage in citing:
        _, start, end = (int(x) for x in chain_store.sentence_rows[sentence])
        assert "iii" in [f.label for f in graph.footnotes_in("article", start, end)]
        assert [s.doc_id for _, s in graph.sources_in("article", start, end)] == [SOURCE]
        assert entry in graph.entries_cited(sentence)
        assert passage in graph.claim_passages(entry)
    assert graph.citing_sentences("article") == []  # no footnote's source is the article


def test_an_entry_passage_is_its_footnote_and_cites_nothing(chain_store: IndexStore) -> None:
    graph = chain_store.graph
    article = chain_store.docs["article"]
    for label, row in graph.entry_rows("article").items():
        record = chain_store.passages[row]
        assert (record.kind, record.labels) == ("footnote", (label,))
        assert graph.footnotes_in("article", record.start, record.end) == [article.footnote(label)]
        assert graph.entries_cited(record.first_sentence) == []
    assert set(graph.entry_rows("article")) == {f.label for f in article.footnotes}


def test_a_source_sentence_cites_no_entry(chain_store: IndexStore) -> None:
    rows = chain_store.doc_sentences[SOURCE]
    assert len(rows) and all(chain_store.graph.entries_cited(int(r)) == [] for r in rows)
    assert chain_store.graph.sources_in(SOURCE, 0, 10) == []


def test_a_build_no_one_holds_is_freed_at_once(docs_dir: Path, chain_store: IndexStore) -> None:
    """The chain and the answer features it computed hold the build weakly: dropping it
    frees its memory-mapped vectors at once, without waiting for the garbage collector."""
    store = load_current(settings_for(docs_dir, docs_dir.parent / "index"))
    features = SentenceFeatures.of(store)
    assert features.footnote_terms(store.graph.citing_sentences(SOURCE)[0][0])
    assert SentenceFeatures.of(store) is features
    store.close()
    alive = weakref.ref(store)
    gc.disable()
    try:
        del store, features
        assert alive() is None
    finally:
        gc.enable()
