"""Robustness, issue 7 item 2: bad files in ``docs/``.

Whatever sits in the documents folder, the build succeeds, every file it cannot use is listed
in ``IndexStats.skipped`` with a reason a person can act on, and the rest is indexed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import threading
import time
from pathlib import Path

import pytest

import rag
import rag.assistant
import rag.index.build
from helpers.shared import assert_answer_contract, make_corpus, settings_for
from rag.cli import main as cli_main
from rag.corpus.documents import MAX_FILE_BYTES
from rag.errors import DocumentError

CP1251_TEXT = (
    "Отчёт городского совета Велны\n\n"
    "Городской совет Велны утвердил строительство второго причала в марте 2031 года. "
    "Работы оплатит портовая администрация.\n"
)
# What the skip reason must say, per file (as ``IndexStats.skipped`` lists it).
EXPECTED_REASONS = {
    "binary.txt": "binary",
    "empty.txt": "empty",
    "blank.md": "empty",
    "huge.txt": "larger than",
    "random.txt": "not UTF-8",
    "link-outside.txt": "outside the documents folder",
    "no-text.html": "no readable text",
}


def _bad_corpus(root: Path) -> Path:
    """The article plus one file of each kind a user (or a broken tool) might leave in docs/."""
    docs = make_corpus(root)
    (docs / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(4096))
    (docs / "cp1251.txt").write_bytes(CP1251_TEXT.encode("cp1251"))
    (docs / "empty.txt").write_bytes(b"")
    (docs / "blank.md").write_text(" \n\t\n   \n", "utf-8")
    with (docs / "huge.txt").open("wb") as out:  # just over the cap, real text
        line = "Песков назвал разговор тёплым. ".encode() * 1000 + b"\n"
        while out.tell() <= MAX_FILE_BYTES:
            out.write(line)
    # Bytes that are neither UTF-8 nor plausible Windows-1251 (and no NUL byte).
    (docs / "random.txt").write_bytes(bytes(range(0x80, 0x100)) * 20)
    (docs / "utf16.txt").write_bytes("Текст в UTF-16 про Пескова.\n".encode("utf-16"))
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Секретный пароль: swordfish. Песков.\n", "utf-8")
    (docs / "link-outside.txt").symlink_to(outside / "secret.txt")
    (docs / "no-text.html").write_text("<html><body><script>1</script></body></html>", "utf-8")
    (docs / "folder.txt").mkdir()  # a directory with a document's suffix: not a document
    return docs


@pytest.fixture
def bad_corpus(tmp_path: Path) -> rag.Settings:
    return settings_for(_bad_corpus(tmp_path), tmp_path / "index")


def test_bad_files_are_skipped_with_reasons_and_the_rest_is_indexed(
    bad_corpus: rag.Settings,
) -> None:
    assistant = rag.Assistant(bad_corpus)
    started = time.monotonic()
    stats = assistant.build_index()
    assert time.monotonic() - started < 10  # the 20 MB file is refused by size, not parsed
    assert stats.rebuilt
    skipped = dict(stats.skipped)
    assert set(skipped) == set(EXPECTED_REASONS), skipped
    for name, reason in EXPECTED_REASONS.items():
        assert reason in skipped[name], (name, skipped[name])
    indexed = {d.path: d for d in assistant.documents()}
    assert set(indexed) == {"article.ru.txt", "cp1251.txt", "utf16.txt"}  # UTF-16 has a BOM
    assert stats.documents == 3
    # The manifest keeps the same list, so `rag index` can say it again later.
    manifest = assistant.store().manifest
    assert {tuple(x) for x in manifest["skipped"]} == set(stats.skipped)


def test_windows_1251_document_is_decoded_and_answerable(bad_corpus: rag.Settings) -> None:
    assistant = rag.Assistant(bad_corpus)
    answer = assistant.query("Что утвердил городской совет Велны?")
    assert_answer_contract(answer, assistant)
    assert not answer.abstained
    cited = answer.citations[0]
    assert cited.doc_id == "cp1251"
    assert "второго причала" in cited.text
    assert assistant.store().docs["cp1251"].text == CP1251_TEXT


def test_nothing_outside_docs_is_indexed_or_quoted(bad_corpus: rag.Settings) -> None:
    assistant = rag.Assistant(bad_corpus)
    store = assistant.store()
    assert all("swordfish" not in doc.text for doc in store.docs.values())
    for question in ("Какой секретный пароль?", "swordfish password secret"):
        answer = assistant.query(question)
        assert "swordfish" not in answer.text
        assert all("swordfish" not in c.text for c in answer.citations)


def test_a_query_over_bad_files_builds_the_index_itself(bad_corpus: rag.Settings) -> None:
    assistant = rag.Assistant(bad_corpus)  # no explicit build: the first question builds
    answer = assistant.query("Как Песков охарактеризовал разговор?")
    assert_answer_contract(answer, assistant)
    assert not answer.abstained


def test_rag_index_lists_the_skipped_files_on_stderr(
    bad_corpus: rag.Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBED_MODEL", "hash")
    argv = ["--docs-dir", str(bad_corpus.docs_dir), "--index-dir", str(bad_corpus.index_dir)]
    assert cli_main([*argv, "index"]) == 0
    out, err = capsys.readouterr()
    for name, reason in EXPECTED_REASONS.items():
        assert any(
            line.startswith(f"skipped {name}: ") and reason in line for line in err.splitlines()
        )
    assert "indexed 3 documents" in out
    assert "Traceback" not in err


def test_unreadable_file_is_skipped_with_a_reason(tmp_path: Path) -> None:
    docs = make_corpus(tmp_path)
    locked = docs / "locked.txt"
    locked.write_text("Текст, который нельзя прочитать.\n", "utf-8")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip(
                "running as root (or with CAP_DAC_OVERRIDE): a chmod 000 file is still "
                "readable, so the permission case cannot be produced here"
            )
        stats = rag.Assistant(settings_for(docs, tmp_path / "index")).build_index()
        assert "locked.txt" in dict(stats.skipped)
        assert "ermission" in dict(stats.skipped)["locked.txt"]
        assert stats.documents == 1
    finally:
        locked.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_a_document_that_turns_bad_later_is_dropped_on_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rag.assistant, "FRESHNESS_INTERVAL", 0.0)  # look at docs/ every time
    docs = make_corpus(tmp_path)
    good = docs / "velna.txt"
    good.write_text(CP1251_TEXT, "utf-8")
    assistant = rag.Assistant(settings_for(docs, tmp_path / "index"))
    assert assistant.build_index().documents == 2
    good.write_bytes(b"\x00" * 100)  # overwritten by a broken tool
    answer = assistant.query("Что утвердил городской совет Велны?")  # notices, rebuilds
    assert all(c.doc_id != "velna" for c in answer.citations)
    assert [d.path for d in assistant.documents()] == ["article.ru.txt"]
    assert "velna.txt" in dict(assistant.store().manifest["skipped"])


def test_turkish_windows_1254_text_is_decoded_or_skipped_never_garbled(tmp_path: Path) -> None:
    docs = make_corpus(tmp_path)
    text = (
        "Türkiye ile Azerbaycan arasındaki ilişkiler güçlü. Peskov görüşmeyi çok sıcak ve "
        "gerekli olarak nitelendirdi. Şu anda İlham Aliyev ve Putin konuştu.\n"
    )
    (docs / "tr.txt").write_bytes(text.encode("cp1254"))
    stats = rag.Assistant(settings_for(docs, tmp_path / "index")).build_index()
    store = rag.index.build.load_current(settings_for(docs, tmp_path / "index"))
    if "tr.txt" in dict(stats.skipped):
        return  # skipped with a reason: acceptable
    assert store.docs["tr"].text == text


def test_a_named_pipe_in_docs_does_not_hang_the_build(tmp_path: Path) -> None:
    docs = make_corpus(tmp_path)
    assistant = rag.Assistant(settings_for(docs, tmp_path / "index"))
    assistant.build_index()  # warm: imports done, so the build below takes well under 1 s
    fifo = docs / "notes.txt"
    os.mkfifo(fifo)
    outcome: list[object] = []

    def build() -> None:
        try:
            outcome.append(assistant.build_index(force=True))
        except BaseException as err:
            outcome.append(err)

    worker = threading.Thread(target=build, daemon=True)
    worker.start()
    worker.join(3.0)
    hung = worker.is_alive()
    while worker.is_alive():  # release the reader: a writer that closes at once means EOF
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(0.05)
    assert not hung, "the build blocked reading a named pipe in docs/"
    assert isinstance(outcome[0], rag.IndexStats)


def test_a_symlinked_directory_outside_docs_is_listed_as_skipped(tmp_path: Path) -> None:
    docs = make_corpus(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "notes.txt").write_text("Заметки снаружи папки документов.\n", "utf-8")
    (docs / "linked").symlink_to(outside, target_is_directory=True)
    stats = rag.Assistant(settings_for(docs, tmp_path / "index")).build_index()
    assert any(name.startswith("linked") for name, _ in stats.skipped), stats.skipped


def test_a_folder_of_only_bad_files_is_a_document_error_listing_them(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (docs / "empty.md").write_bytes(b"")
    # (Regression: this once crashed inside bm25s with a bare ValueError.)
    with pytest.raises(DocumentError) as caught:
        rag.Assistant(settings_for(docs, tmp_path / "index")).build_index()
    assert "binary.txt" in str(caught.value) and "empty.md" in str(caught.value)
    with pytest.raises(DocumentError):  # the same through a question
        rag.Assistant(settings_for(docs, tmp_path / "index")).query("Что в документах?")


def test_removing_the_bad_files_leaves_a_normal_index(bad_corpus: rag.Settings) -> None:
    assistant = rag.Assistant(bad_corpus)
    assistant.build_index()
    for name in EXPECTED_REASONS:
        path = bad_corpus.docs_dir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    stats = assistant.build_index()
    assert stats.rebuilt and stats.skipped == []
    assert stats.documents == 3
