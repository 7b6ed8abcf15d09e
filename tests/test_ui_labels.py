"""The UI's words in the question's language: complete tables, the language note, and the
sources panel and Documents tab following the question (hash embedder, the article)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import rag
from helpers.shared import SharedIndexes
from rag.index.build import IndexStatus
from rag.ui.app import AssistantUI
from rag.ui.labels import LABELS, labels_for, language_note
from rag.ui.render import render_documents, render_index_status


def test_every_language_has_every_label_with_the_same_placeholders() -> None:
    english = LABELS["en"]
    for language, table in LABELS.items():
        assert table.keys() == english.keys(), language
        for key, text in table.items():
            assert set(re.findall(r"{\w+}", text)) == set(re.findall(r"{\w+}", english[key])), (
                language,
                key,
            )


def test_an_unknown_language_gets_english() -> None:
    assert labels_for("de") is LABELS["en"]


def test_the_language_note_names_the_quotes_language_and_the_llm_setting() -> None:
    note = language_note("en", "ru", llm_configured=False)
    assert note is not None and "Russian" in note and "RAG_LLM=openai-like" in note
    turkish = language_note("tr", "ru", llm_configured=True)
    assert turkish is not None and "Rusça" in turkish and "LLM" in turkish
    assert "RAG_LLM" not in turkish  # the LLM is set up: the note points to the answer mode
    assert language_note("ru", "ru", llm_configured=False) is None
    assert language_note("de", "ru", llm_configured=False) is None


@pytest.fixture(scope="module")
def article_ui(request: pytest.FixtureRequest, shared_indexes: SharedIndexes) -> AssistantUI:
    assistant = rag.Assistant(shared_indexes.settings(request))
    assistant.build_index()
    return AssistantUI(assistant)


def last(ui: AssistantUI, question: str) -> tuple[str, str]:
    *_, (chat, panel, _entries) = ui.answer(question, [], [], 5, "extractive")
    return chat[-1]["content"], panel


@pytest.mark.parametrize(
    ("question", "head", "note"),
    [
        ("What did Peskov say about the conversation?", "Sources for", "Quoted in Russian"),
        ("Peskov görüşmeyi nasıl nitelendirdi?", "için kaynaklar", "Rusça"),
        ("Как Песков охарактеризовал разговор?", "Источники ответа на", None),
    ],
)
def test_the_panel_and_the_note_speak_the_question_language(
    article_ui: AssistantUI, question: str, head: str, note: str | None
) -> None:
    message, panel = last(article_ui, question)
    assert "cite-marker" in message, message
    assert head in panel
    notes = re.findall(r'<div class="rag-note">(.*?)</div>', message)
    if note is None:
        assert notes == []
    else:
        assert len(notes) == 1 and note in notes[0]


def test_an_abstention_gets_no_language_note(article_ui: AssistantUI) -> None:
    message, panel = last(article_ui, "What is the population of Mars?")
    assert "rag-note" not in message and "nothing is cited" in panel


def test_the_documents_tab_speaks_russian(article_ui: AssistantUI, tmp_path: Path) -> None:
    docs = render_documents(article_ui.assistant.documents(), "ru")
    assert "Название" in docs and "Фрагменты" in docs and "русский" in docs
    assert "источники: сохранено 0 из 6" in docs
    status = render_index_status(
        IndexStatus("stale", "documents in docs changed", None), article_ui.assistant.settings, "ru"
    )
    assert "устарел" in status and "Папка документов" in status
    assert "Пока не проиндексировано" in render_documents([], "ru")
