"""Documents added through the UI: safe names, size and text checks, never an overwrite."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.corpus.uploads import UploadRefusedError, sanitize_filename, save_upload


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\evil.TXT", "evil.txt"),
        (".hidden.md", "hidden.md"),
        ("Отчёт 2025 (final).MD", "Отчёт_2025_final.md"),
        ("<script>alert(1)</script>.html", "script.html"),  # "/" ends a directory
        ("...md", "document.md"),
    ],
)
def test_sanitize_filename(name: str, safe: str) -> None:
    assert sanitize_filename(name) == safe


@pytest.mark.parametrize("name", ["tool.exe", "noext", "page.htm.exe", "README.md", "x.pdf"])
def test_sanitize_filename_refuses(name: str) -> None:
    with pytest.raises(UploadRefusedError):
        sanitize_filename(name)


def test_save_upload_never_overwrites_unless_asked(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    first, second = tmp_path / "a" / "note.md", tmp_path / "b" / "note.md"
    for path, text in ((first, "first version"), (second, "second version")):
        path.parent.mkdir()
        path.write_text(text, "utf-8")
    assert save_upload(first, docs) == docs / "note.md"
    with pytest.raises(UploadRefusedError, match="already exists"):
        save_upload(second, docs)
    assert (docs / "note.md").read_text("utf-8") == "first version"
    save_upload(second, docs, overwrite=True)
    assert (docs / "note.md").read_text("utf-8") == "second version"
    assert sorted(p.name for p in docs.iterdir()) == ["note.md"]  # no temporary files left


def test_save_upload_checks_size_and_content(tmp_path: Path, monkeypatch) -> None:
    binary, empty, big = tmp_path / "bin.txt", tmp_path / "empty.md", tmp_path / "big.md"
    binary.write_bytes(b"\x00\x01\x02PNG" * 10)
    empty.write_text("  \n", "utf-8")
    big.write_text("x" * 2000, "utf-8")
    monkeypatch.setattr("rag.corpus.uploads.MAX_UPLOAD_BYTES", 1000)
    for path, reason in ((binary, "binary"), (empty, "empty"), (big, "limit")):
        with pytest.raises(UploadRefusedError, match=reason):
            save_upload(path, tmp_path / "docs")


def test_a_removed_document_is_moved_aside_never_deleted(tmp_path: Path) -> None:
    from rag.corpus.uploads import DocumentNotFoundError, remove_document_file

    docs = tmp_path / "docs"
    (docs / "uploads").mkdir(parents=True)
    for text in ("first", "second"):
        (docs / "uploads" / "note.md").write_text(text, "utf-8")
        remove_document_file(docs, "uploads/note.md", {"uploads/note.md"})
    removed = docs / ".removed" / "uploads"
    assert (removed / "note.md").read_text("utf-8") == "first"
    assert (removed / "note.2.md").read_text("utf-8") == "second"  # an earlier one is kept
    for path in ("../secret.md", "uploads/note.md", ""):  # outside, gone, nothing
        with pytest.raises(DocumentNotFoundError):
            remove_document_file(docs, path, {"uploads/note.md"} - {path})


def test_the_assistant_adds_into_uploads_and_removes_out_of_the_index(tmp_path: Path) -> None:
    import rag
    from helpers.shared import make_corpus, settings_for
    from rag.corpus.uploads import DocumentNotFoundError

    assistant = rag.Assistant(settings_for(make_corpus(tmp_path), tmp_path / "index"))
    upload = tmp_path / "in" / "cable.md"
    upload.parent.mkdir()
    upload.write_text("# Cable\n\nThe Lisbon cable is code-named Blue Heron.\n", "utf-8")
    target = assistant.add_document(upload)
    assert target == assistant.settings.docs_dir / "uploads" / "cable.md"
    assert "uploads/cable.md" in {d.path for d in assistant.documents()}
    assistant.remove_document("uploads/cable.md")
    assistant.build_index()  # what the UI does next (a question would too, soon after)
    assert "uploads/cable.md" not in {d.path for d in assistant.documents()}
    with pytest.raises(DocumentNotFoundError, match="not one of the documents"):
        assistant.remove_document("uploads/cable.md")
    info = {d.path: d for d in assistant.documents()}["article.ru.txt"]
    assert info.language == "ru" and info.sources and not any(ok for _l, ok in info.sources)
