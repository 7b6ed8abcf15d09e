"""The persisted index: manifest, staleness, incremental re-embedding, atomic swaps, damage."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

import rag
import rag.index.build
from rag.errors import DocumentError, IndexBusyError, IndexError_
from rag.index.build import FORMAT_VERSION, build_index, index_status, load_current
from rag.index.embeddings import HashEmbedder
from rag.index.store import IndexStore

HASH_DIM = HashEmbedder().dim


def _builds(settings: rag.Settings) -> list[Path]:
    return sorted((settings.index_dir / "builds").iterdir())


def _current(settings: rag.Settings) -> Path:
    return (settings.index_dir / "current").resolve()


def _edit_article(settings: rag.Settings, old: str, new: str) -> None:
    path = settings.docs_dir / "article.ru.txt"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")


def test_build_writes_a_manifest_describing_the_index(store_settings: rag.Settings) -> None:
    stats = build_index(store_settings, HashEmbedder())
    manifest = json.loads((_current(store_settings) / "manifest.json").read_text("utf-8"))
    article = store_settings.docs_dir / "article.ru.txt"
    assert manifest["format"] == FORMAT_VERSION
    assert manifest["embedder"] == "hash"
    assert manifest["dim"] == HASH_DIM
    assert manifest["chunk_tokens"] == 160
    assert manifest["store"] == store_settings.store
    assert manifest["files"] == {"article.ru.txt": hashlib.sha256(article.read_bytes()).hexdigest()}
    counts = manifest["counts"]
    assert counts["documents"] == 1
    assert counts["footnotes"] == 6
    assert counts["sources_fetched"] == 0 and counts["sources_missing"] == 6
    assert counts["passages"] == stats.passages > 6
    assert stats.rebuilt and stats.embedded > 0 and stats.reused == 0
    assert (stats.documents, stats.footnotes) == (1, 6)


def test_second_build_is_up_to_date_and_embeds_nothing(store_settings: rag.Settings) -> None:
    first = build_index(store_settings, HashEmbedder())
    second = build_index(store_settings, HashEmbedder())
    assert not second.rebuilt
    assert second.embedded == 0
    assert second.passages == first.passages
    assert "up to date" in second.summary()
    assert "nothing re-embedded" in second.summary()
    assert _builds(store_settings) == [_current(store_settings)]


def test_forced_rebuild_reuses_every_cached_vector(store_settings: rag.Settings) -> None:
    first = build_index(store_settings, HashEmbedder())
    again = build_index(store_settings, HashEmbedder(), force=True)
    assert again.rebuilt
    assert again.embedded == 0
    assert again.reused == first.embedded


def test_changed_document_makes_the_index_stale(hash_settings: rag.Settings) -> None:
    build_index(hash_settings, HashEmbedder())
    assert index_status(hash_settings, HASH_DIM).state == "ok"
    _edit_article(hash_settings, "делает Россию зависимой", "делает Россию очень зависимой")
    status = index_status(hash_settings, HASH_DIM)
    assert status.state == "stale"
    assert "changed" in status.reason


def test_rebuild_re_embeds_only_the_changed_sentence(store_settings: rag.Settings) -> None:
    first = build_index(store_settings, HashEmbedder())
    _edit_article(store_settings, "делает Россию зависимой", "делает Россию очень зависимой")
    second = build_index(store_settings, HashEmbedder())
    assert second.rebuilt
    assert 1 <= second.embedded <= 3
    assert second.reused >= first.embedded - 3
    store = load_current(store_settings)
    assert "делает Россию очень зависимой" in store.docs["article"].text


def test_a_new_document_is_picked_up(store_settings: rag.Settings) -> None:
    build_index(store_settings, HashEmbedder())
    (store_settings.docs_dir / "extra.md").write_text(
        "# A second document\n\nThe port of Alat handles ferries.\n", "utf-8"
    )
    assert index_status(store_settings, HASH_DIM).state == "stale"
    stats = build_index(store_settings, HashEmbedder())
    assert stats.documents == 2
    assert set(load_current(store_settings).docs) == {"article", "extra"}


@pytest.mark.parametrize(
    ("change", "word"),
    [
        ({"chunk_tokens": 80}, "chunk_tokens"),
        ({"embed_model": "use-multilingual"}, "embedder"),
        ({"store": "qdrant-edge"}, "store"),
    ],
)
def test_other_settings_make_the_index_stale(
    shared_index: Callable[..., rag.Settings], change: dict[str, object], word: str
) -> None:
    status = index_status(shared_index().model_copy(update=change))
    assert status.state == "stale"
    assert word in status.reason


def test_other_dimension_makes_the_index_stale(
    shared_index: Callable[..., rag.Settings],
) -> None:
    status = index_status(shared_index(), HASH_DIM + 1)
    assert status.state == "stale"
    assert "dim" in status.reason


def test_missing_index_is_reported_missing(hash_settings: rag.Settings) -> None:
    assert index_status(hash_settings, HASH_DIM).state == "missing"


def test_changed_chunking_rebuilds_with_other_passages(hash_settings: rag.Settings) -> None:
    wide = build_index(hash_settings, HashEmbedder())
    narrow = build_index(hash_settings.model_copy(update={"chunk_tokens": 40}), HashEmbedder())
    assert narrow.rebuilt
    assert narrow.passages > wide.passages
    assert narrow.embedded == 0  # sentences did not change; their vectors are reused


def test_current_points_at_a_complete_build_and_old_builds_go(hash_settings: rag.Settings) -> None:
    build_index(hash_settings, HashEmbedder())
    first = _current(hash_settings)
    build_index(hash_settings, HashEmbedder(), force=True)
    link = hash_settings.index_dir / "current"
    assert link.is_symlink()
    assert not Path(link.readlink()).is_absolute()  # the index folder can be moved
    current = _current(hash_settings)
    assert current != first
    assert current.parent == hash_settings.index_dir / "builds"
    assert _builds(hash_settings) == [current]
    for name in ("manifest.json", "docs.json", "default__vector_store.json", "sentences.npy"):
        assert (current / name).is_file()
    assert IndexStore.load(link).manifest["counts"]["footnotes"] == 6


def test_failed_build_leaves_the_previous_index_intact(
    store_settings: rag.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(store_settings, HashEmbedder())
    before = _current(store_settings)

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # as if the build were killed halfway

    monkeypatch.setattr(rag.index.build, "write_store", crash)
    with pytest.raises(KeyboardInterrupt):
        build_index(store_settings, HashEmbedder(), force=True)
    assert _current(store_settings) == before
    assert _builds(store_settings) == [before]
    assert load_current(store_settings).manifest["counts"]["documents"] == 1


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(
            lambda build: (build / "docs.json").write_text('[{"doc_id": '), id="docs.json"
        ),
        pytest.param(lambda build: (build / "default__vector_store.json").unlink(), id="faiss"),
        pytest.param(lambda build: (build / "sentences.npy").write_bytes(b"\x93NUMPY"), id="npy"),
    ],
)
def test_damaged_build_raises_then_is_rebuilt_on_use(
    hash_settings: rag.Settings, damage: object, caplog: pytest.LogCaptureFixture
) -> None:
    build_index(hash_settings, HashEmbedder())
    damaged = _current(hash_settings)
    damage(damaged)  # type: ignore[operator]
    with pytest.raises(IndexError_, match="rag index"):
        IndexStore.load(hash_settings.index_dir / "current")

    assistant = rag.Assistant(hash_settings)
    with caplog.at_level(logging.WARNING, logger="rag.assistant"):
        store = assistant.store()
    assert "rebuilding" in caplog.text
    assert _current(hash_settings) != damaged
    assert store.manifest["counts"]["footnotes"] == 6
    assert assistant.query("Как Песков охарактеризовал разговор?").citations


def test_stale_index_is_rebuilt_on_first_use_with_a_log_line(
    hash_settings: rag.Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="rag.assistant"):
        rag.Assistant(hash_settings).store()
    assert "missing" in caplog.text and "building" in caplog.text
    assert index_status(hash_settings, HASH_DIM).state == "ok"


def test_skipped_files_are_reported_by_the_build(hash_settings: rag.Settings) -> None:
    (hash_settings.docs_dir / "broken.txt").write_bytes(b"\x00\x00binary")
    stats = build_index(hash_settings, HashEmbedder())
    assert stats.skipped == [("broken.txt", "binary file (contains NUL bytes)")]
    assert stats.documents == 1


def test_a_build_in_progress_elsewhere_is_a_busy_error(hash_settings: rag.Settings) -> None:
    hash_settings.index_dir.mkdir(parents=True)
    held = FileLock(str(hash_settings.index_dir / ".build.lock"))
    held.acquire()
    try:
        with pytest.raises(IndexBusyError, match=r"build\.lock"):
            build_index(hash_settings, HashEmbedder(), lock_timeout=0.1)
    finally:
        held.release()


def test_missing_docs_folder_is_a_document_error(tmp_path: Path) -> None:
    settings = rag.Settings(
        embed_model="hash", docs_dir=tmp_path / "nope", index_dir=tmp_path / "index"
    )
    with pytest.raises(DocumentError):
        build_index(settings, HashEmbedder())


def test_corpus_without_documents_is_a_document_error(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "empty.txt").write_bytes(b"")
    settings = rag.Settings(embed_model="hash", docs_dir=docs, index_dir=tmp_path / "index")
    with pytest.raises(DocumentError, match="docs"):
        build_index(settings, HashEmbedder())
