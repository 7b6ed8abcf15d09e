"""A question's words translated through the corpus lexicon reach BM25 too: "missile" also
looks for «ракет», so an English question finds the Russian passage by its words, not only
by its vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import rag
from rag.query import Query
from rag.retrieval import hybrid_search

TEXT = (
    "Заметки\n\n"
    "Самолет был сбит ракетой в декабре 2024 года.\n\n"
    "Железнодорожный коридор расширили в 2023 году.\n"
)


def _store(tmp_path: Path) -> rag.Assistant:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.ru.md").write_text(TEXT, "utf-8")
    settings = rag.Settings(embed_model="hash", docs_dir=docs, index_dir=tmp_path / "index")
    assistant = rag.Assistant(settings)
    assistant.build_index()
    return assistant


def test_translated_terms_are_each_translation_once_in_order() -> None:
    vector = np.zeros(4, dtype=np.float32)
    query = Query.parse(
        "missile plane missile", vector, [frozenset({"ракет"}), frozenset({"самолет"})]
    )
    assert query.translated_terms == ["ракет", "самолет"]


def test_bm25_finds_the_russian_passage_through_a_translation(tmp_path: Path) -> None:
    store = _store(tmp_path).store()
    rows = [
        i
        for i, p in enumerate(store.passages)
        if "ракетой" in store.docs[p.doc_id].text[p.start : p.end]
    ]
    vector = np.zeros(store.dim, dtype=np.float32)
    plain = Query.parse("When was the missile fired?", vector)
    translated = Query.parse(
        "When was the missile fired?", vector, [frozenset({"ракет"}), frozenset()]
    )
    assert plain.words[0][0].startswith("missil")  # the word the translation stands for
    assert all(h.lexical == 0 for h in hybrid_search(store, plain, 3))
    hits = hybrid_search(store, translated, 3)
    assert hits[0].row in rows and hits[0].lexical > 0
