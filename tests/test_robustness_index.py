"""Robustness, issue 7 item 3: a damaged, foreign or half-written index.

For each fault a *fresh* Assistant with the same settings must answer (having rebuilt the
index, with a log line) or raise a ``RagError`` that names the fix; never another exception.
Crashes (SIGKILL) and concurrent rebuilds are in test_robustness_crash.py.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import rag
import rag.index.build
import rag.index.store
from helpers.shared import assert_answer_contract, make_corpus, settings_for
from rag.index.build import build_index, index_status, load_current
from rag.index.embeddings import HashEmbedder

QUESTION = "Как Песков охарактеризовал разговор?"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """docs/ and a good index/, built once; each test damages its own copy."""
    root = tmp_path_factory.mktemp("pristine")
    docs = make_corpus(root)
    build_index(settings_for(docs, root / "index"), HashEmbedder())
    return root


@pytest.fixture
def copy(pristine: Path, tmp_path: Path) -> rag.Settings:
    root = tmp_path / "copy"
    shutil.copytree(pristine, root, symlinks=True)  # `current` stays a relative symlink
    return settings_for(root / "docs", root / "index")


def _current(settings: rag.Settings) -> Path:
    return (settings.index_dir / "current").resolve()


def _answers_or_names_the_fix(settings: rag.Settings) -> rag.Answer | None:
    """A fresh assistant's answer (checked), or None after a RagError that names the fix."""
    assistant = rag.Assistant(settings)
    try:
        answer = assistant.query(QUESTION)
    except rag.RagError as err:
        assert "rag index" in str(err), f"the message names no fix: {err}"
        return None
    assert_answer_contract(answer, assistant)
    assert not answer.abstained
    return answer


# -- damaged files -------------------------------------------------------------------------

FILES = [
    "manifest.json",
    "docs.json",
    "default__vector_store.json",
    "docstore.json",
    "index_store.json",
    "sentences.npy",
    "sentence_rows.npy",
    "bm25/vocab.index.json",
    "bm25/params.index.json",
    "bm25/data.csc.index.npy",
]


def _delete(path: Path) -> None:
    path.unlink()


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _halve(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(max(256, path.stat().st_size)))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "deleted": _delete,
    "empty": _empty,
    "truncated": _halve,
    "garbage": _garbage,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("name", FILES)
def test_a_damaged_file_is_rebuilt_on_first_use_with_a_log_line(
    copy: rag.Settings, name: str, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    damaged = _current(copy)
    DAMAGE[damage](damaged / name)
    with caplog.at_level(logging.INFO, logger="rag"):
        answer = _answers_or_names_the_fix(copy)
    assert answer is not None, "rebuilding needs no user action here"
    assert _current(copy) != damaged
    assert not damaged.exists(), "the damaged build is cleaned up"
    assert "rebuilding" in caplog.text or "building it now" in caplog.text
    load_current(copy)  # the new build loads on its own


def test_a_missing_bm25_folder_is_rebuilt(copy: rag.Settings) -> None:
    shutil.rmtree(_current(copy) / "bm25")
    assert _answers_or_names_the_fix(copy) is not None


def test_an_emptied_build_folder_is_rebuilt(copy: rag.Settings) -> None:
    build = _current(copy)
    shutil.rmtree(build)
    build.mkdir()
    assert _answers_or_names_the_fix(copy) is not None


# -- another embedder, another dimension, older format -------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"embedder": "use-multilingual", "dim": 512},
        {"embedder": "e5-small", "dim": 384},
        {"dim": 128},
        {"format": 1},
        {"chunk_tokens": 999},
        {"files": {"article.ru.txt": "0" * 64}},
    ],
    ids=["use-512", "e5-384", "dim-128", "old-format", "chunking", "file-hash"],
)
def test_a_manifest_that_does_not_match_means_rebuild(
    copy: rag.Settings, change: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    manifest = _current(copy) / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text("utf-8")), **change}))
    assert index_status(copy, HashEmbedder().dim).state == "stale"
    with caplog.at_level(logging.INFO, logger="rag"):
        assert _answers_or_names_the_fix(copy) is not None
    assert "stale" in caplog.text
    assert load_current(copy).manifest["dim"] == HashEmbedder().dim


def test_an_index_really_built_with_another_dimension_is_rebuilt(copy: rag.Settings) -> None:
    build_index(copy, HashEmbedder(dim=96), force=True)  # a genuine 96-d FAISS index
    assert load_current(copy).faiss_index.d == 96
    assert _answers_or_names_the_fix(copy) is not None
    assert load_current(copy).faiss_index.d == HashEmbedder().dim


# -- half-written and dangling ----------------------------------------------------------------


def test_a_half_written_build_without_manifest_is_never_used(copy: rag.Settings) -> None:
    good = _current(copy)
    half = copy.index_dir / "builds" / "29991231-235959-deadbeef"  # sorts after every real one
    shutil.copytree(good, half)
    (half / "manifest.json").unlink()
    (half / "docs.json").write_text('[{"doc_id": "x", "te', "utf-8")
    assert _answers_or_names_the_fix(copy) is not None
    assert _current(copy) == good  # still the complete build: nothing rebuilt
    build_index(copy, HashEmbedder(), force=True)  # the next build clears the leftover
    assert [p.name for p in (copy.index_dir / "builds").iterdir()] == [_current(copy).name]


def test_current_pointing_at_a_half_written_build_is_rebuilt(copy: rag.Settings) -> None:
    half = copy.index_dir / "builds" / "29991231-235959-deadbeef"
    half.mkdir()
    (half / "docstore.json").write_text("{", "utf-8")
    link = copy.index_dir / "current"
    link.unlink()
    link.symlink_to(Path("builds") / half.name)
    assert _answers_or_names_the_fix(copy) is not None
    assert _current(copy) != half


def test_a_dangling_current_link_is_rebuilt(copy: rag.Settings) -> None:
    shutil.rmtree(copy.index_dir / "builds")
    assert (copy.index_dir / "current").is_symlink()
    assert not (copy.index_dir / "current").exists()
    assert _answers_or_names_the_fix(copy) is not None
    assert (copy.index_dir / "current").exists()


def test_current_replaced_by_a_file_is_rebuilt(copy: rag.Settings) -> None:
    link = copy.index_dir / "current"
    link.unlink()
    link.write_text("not a link", "utf-8")
    assert _answers_or_names_the_fix(copy) is not None
    assert link.is_symlink()


def test_a_stale_lock_file_left_behind_does_not_block(copy: rag.Settings) -> None:
    (copy.index_dir / ".build.lock").write_text("12345", "utf-8")  # no process holds it
    stats = build_index(copy, HashEmbedder(), force=True, lock_timeout=1)
    assert stats.rebuilt


def test_a_missing_index_folder_is_created(copy: rag.Settings) -> None:
    shutil.rmtree(copy.index_dir)
    assert _answers_or_names_the_fix(copy) is not None


def test_a_running_assistant_survives_its_index_being_deleted(copy: rag.Settings) -> None:
    assistant = rag.Assistant(copy)
    first = assistant.query(QUESTION)
    shutil.rmtree(copy.index_dir)
    assert assistant.query(QUESTION) == first  # served from memory
    assert _answers_or_names_the_fix(copy) is not None  # a new one rebuilds


# -- bugs: damage that loads "fine" and fails later ----------------------------------------


def _fresh_query(settings: rag.Settings) -> None:
    _answers_or_names_the_fix(settings)


def test_a_large_corpus_with_an_hnsw_index_loads_and_answers(
    copy: rag.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Regression: the FAISS/manifest check was once glued into a comment, so every HNSW index
    # (over FLAT_LIMIT passages) was refused on load, and rebuilding could not help.
    # the article's ~40 passages -> HNSW
    monkeypatch.setattr(rag.index.faiss_index, "FLAT_LIMIT", 10)
    build_index(copy, HashEmbedder(), force=True)
    assert hasattr(load_current(copy).faiss_index, "hnsw")
    answer = rag.Assistant(copy).query(QUESTION)
    assert not answer.abstained


@pytest.fixture
def other_build(tmp_path: Path) -> Path:
    """A complete build of a bigger corpus (the article three times)."""
    docs = make_corpus(tmp_path / "other")
    for n in (2, 3):
        shutil.copyfile(docs / "article.ru.txt", docs / f"article{n}.txt")
    settings = settings_for(docs, tmp_path / "other" / "index")
    build_index(settings, HashEmbedder())
    return _current(settings)


def test_a_faiss_file_from_another_build_is_detected(copy: rag.Settings, other_build: Path) -> None:
    # Without the ntotal/dim check this loads and the query dies with a bare IndexError.
    shutil.copyfile(
        other_build / "default__vector_store.json", _current(copy) / "default__vector_store.json"
    )
    damaged = _current(copy)
    assert _answers_or_names_the_fix(copy) is not None
    assert _current(copy) != damaged


def _empty_docs_json(build: Path) -> None:
    (build / "docs.json").write_text("[]", "utf-8")


def _narrow_sentences(build: Path) -> None:
    vectors = np.load(build / "sentences.npy")
    np.save(build / "sentences.npy", vectors[:, : vectors.shape[1] // 2])


def _fewer_sentences(build: Path) -> None:
    for name in ("sentences.npy", "sentence_rows.npy"):
        np.save(build / name, np.load(build / name)[:5])


@pytest.mark.parametrize(
    "damage",
    [_empty_docs_json, _narrow_sentences, _fewer_sentences],
    ids=["docs.json-empty-list", "sentences-other-width", "sentences-fewer-rows"],
)
def test_files_that_disagree_with_each_other_are_detected(
    copy: rag.Settings, damage: Callable[[Path], None]
) -> None:
    damage(_current(copy))
    _fresh_query(copy)


@pytest.mark.parametrize("content", ["[]", "42", '"manifest"'])
def test_a_manifest_that_is_json_but_not_an_object_means_rebuild(
    copy: rag.Settings, content: str
) -> None:
    (_current(copy) / "manifest.json").write_text(content, "utf-8")
    _fresh_query(copy)


def test_current_as_a_real_directory_is_replaced_on_rebuild(copy: rag.Settings) -> None:
    link = copy.index_dir / "current"
    target = link.resolve()
    link.unlink()
    shutil.copytree(target, link)  # what `cp -rL` or a backup restore leaves
    (copy.docs_dir / "article.ru.txt").write_text(
        (copy.docs_dir / "article.ru.txt").read_text("utf-8") + "\nНовый абзац.\n", "utf-8"
    )
    _fresh_query(copy)


def test_a_corrupted_embedding_cache_is_discarded(copy: rag.Settings) -> None:
    (copy.index_dir / "embeddings.sqlite").write_bytes(os.urandom(8192))
    stats = build_index(copy, HashEmbedder(), force=True)
    assert stats.rebuilt
    _fresh_query(copy)


def test_an_index_dir_that_is_a_file_is_a_config_error(tmp_path: Path) -> None:
    docs = make_corpus(tmp_path)
    (tmp_path / "index").write_text("oops", "utf-8")
    with pytest.raises(rag.RagError, match="index"):
        rag.Assistant(settings_for(docs, tmp_path / "index")).query(QUESTION)
