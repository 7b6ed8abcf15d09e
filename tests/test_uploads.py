"""Documents added through the UI: safe names, size and text checks, never an overwrite."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.uploads import UploadRefusedError, sanitize_filename, save_upload


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
    monkeypatch.setattr("rag.uploads.MAX_UPLOAD_BYTES", 1000)
    for path, reason in ((binary, "binary"), (empty, "empty"), (big, "limit")):
        with pytest.raises(UploadRefusedError, match=reason):
            save_upload(path, tmp_path / "docs")
