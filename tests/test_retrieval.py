"""Hybrid retrieval: dense + BM25 fused by rank; cross-language questions find Russian text."""

from __future__ import annotations

import pytest

import rag
from rag.query import Query
from rag.retrieval import RRF_K, hybrid_search


@pytest.fixture
def hash_settings(store_settings: rag.Settings) -> rag.Settings:
    """The hash-embedder tests here run on every passage store."""
    return store_settings


def _assert_verbatim(assistant: rag.Assistant, passages: list[rag.Passage]) -> None:
    docs = assistant.store().docs
    for p in passages:
        assert docs[p.doc_id].text[p.start : p.end] == p.text
        assert p.title == docs[p.doc_id].title


# -- unit tests with the hash embedder --------------------------------------------------------


def test_retrieve_returns_k_verbatim_passages_best_first(shared_assistant: rag.Assistant) -> None:
    passages = shared_assistant.retrieve("Песков охарактеризовал разговор", k=4)
    assert len(passages) == 4
    assert all(isinstance(p, rag.Passage) for p in passages)
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True)
    _assert_verbatim(shared_assistant, passages)
    assert "Песковым" in passages[0].text
    assert [f.label for f in passages[0].footnotes] == ["iii"]
    assert passages[0].footnotes[0].publisher == "TASS"


def test_retrieve_uses_top_k_from_settings_by_default(shared_assistant: rag.Assistant) -> None:
    assert len(shared_assistant.retrieve("Баку")) == shared_assistant.settings.top_k == 5


def test_retrieve_never_returns_more_passages_than_exist(shared_assistant: rag.Assistant) -> None:
    total = len(shared_assistant.store().passages)
    assert len(shared_assistant.retrieve("Баку", k=50)) == min(total, 50)


def test_exact_title_words_find_the_footnote_entry(shared_assistant: rag.Assistant) -> None:
    passages = shared_assistant.retrieve(
        "Azerbaijan Russia Iran Trilateral Railway Memorandum", k=3
    )
    assert any("caucasuswatch.de" in p.text for p in passages)


def test_rare_word_found_by_bm25_alone_is_retrieved_with_its_cosine(
    shared_assistant: rag.Assistant,
) -> None:
    store = shared_assistant.store()
    text = store.docs["article"].text
    # The dense side looks at one passage only, about something else.
    vector = shared_assistant.embedder.encode(["телефонный разговор лидеров"])[0]
    hits = hybrid_search(store, Query.parse("Uniper", vector), k=3, depth=1)
    uniper = [
        h for h in hits if "Uniper" in text[store.passages[h.row].start : store.passages[h.row].end]
    ]
    assert uniper, "BM25 finds the only passage naming Uniper"
    hit = uniper[0]
    [(dense_top, _)] = store.passage_index.dense_search(vector, 1)
    assert store.row_of[dense_top] != hit.row  # so BM25 alone brought it in
    assert hit.lexical > 0
    point = int(store.point_ids[hit.row])
    assert hit.dense == pytest.approx(
        float(store.passage_index.vectors([point])[0] @ vector), abs=1e-5
    )


def test_fused_score_is_reciprocal_rank(shared_assistant: rag.Assistant) -> None:
    store = shared_assistant.store()
    vector = shared_assistant.embedder.encode(["пресс-служба Кремля"])[0]
    hits = hybrid_search(store, Query.parse("пресс-служба Кремля", vector), k=5)
    assert len({h.row for h in hits}) == 5
    for hit in hits:
        assert 0 < hit.score <= 2 / (RRF_K + 1)


def test_negative_k_is_refused(shared_assistant: rag.Assistant) -> None:
    with pytest.raises(rag.RagError):
        shared_assistant.retrieve("Баку", k=-1)


# -- integration: the real multilingual embedder ---------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize(
    ("question", "evidence"),
    [
        ("What did the Kremlin press service say both sides confirmed?", "обе стороны подтвердили"),
        ("Azerbaycan ulaştırma bakanı 2028 için hangi yük hedefini koydu?", "5 миллионов тонн"),
        ("Who is Mehriban Aliyeva?", "Мехрибан Алиевой"),
        ("Rusya, Azerbaycan ve İran blok trenler konusunda ne üzerinde anlaştı?", "блок-поездов"),
        ("Как Песков охарактеризовал разговор?", "теплый и необходимый"),
    ],
)
def test_questions_in_any_language_find_the_russian_passage(
    real_assistant: rag.Assistant, question: str, evidence: str
) -> None:
    passages = real_assistant.retrieve(question, k=5)
    assert any(evidence in p.text for p in passages), [p.text[:60] for p in passages]
    _assert_verbatim(real_assistant, passages)


@pytest.mark.integration
def test_english_question_prefers_the_russian_paragraph_over_the_footnote_list(
    real_assistant: rag.Assistant,
) -> None:
    passages = real_assistant.retrieve(
        "What did the Kremlin press service say both sides confirmed?", k=3
    )
    assert "обе стороны подтвердили" in passages[0].text


@pytest.mark.integration
def test_english_question_is_not_crowded_out_by_english_footnote_titles(
    real_assistant: rag.Assistant,
) -> None:
    passages = real_assistant.retrieve(
        "What role does the EU give Azerbaijan in energy security?", k=5
    )
    assert any("незаменимой альтернативы" in p.text for p in passages)
