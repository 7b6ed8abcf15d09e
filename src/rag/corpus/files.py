"""Finding the corpus's files and decoding them: which files are documents, and their text.

Only regular files inside the documents folder qualify; a text file may be UTF-8 (BOM or
not), UTF-16 with a BOM, Windows-1251 or Windows-1254.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

__all__ = ["MAX_FILE_BYTES", "SUFFIXES", "candidate_files", "read_text_file", "scan_files"]

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
MAX_FILE_BYTES = 20_000_000


def read_text_file(path: Path) -> str:
    """Decode a text file: UTF-8 (BOM or not), UTF-16 with a BOM, Windows-1251 or -1254.

    Raises ``ValueError`` with a reason a person can read when the file is not text.
    """
    data = path.read_bytes()
    if not data.strip():
        raise ValueError("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ValueError("broken UTF-16 text") from None
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # The legacy encodings of the languages we serve: Russian, then Turkish.
    for encoding in ("cp1251", "cp1254"):
        if _decodes(data, encoding):
            text = data.decode(encoding)
            if _looks_like_text(text) and not _mixes_scripts(text):
                return text
    raise ValueError("not UTF-8, UTF-16, Windows-1251 or Windows-1254 text")


def _mixes_scripts(text: str) -> bool:
    """Words mixing Latin and Cyrillic letters ("Tьrkiye"): the sign of a wrong code page."""
    words = re.findall(r"\w{3,}", text[:20000])
    mixed = sum(1 for w in words if re.search(r"[a-zA-Z]", w) and re.search(r"[а-яА-ЯёЁ]", w))
    return mixed > max(1, len(words) // 100)


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _looks_like_text(text: str) -> bool:
    sample = text[:4000]
    printable = sum(1 for ch in sample if ch.isprintable() or ch in "\n\r\t")
    return printable >= 0.97 * len(sample)


def scan_files(docs_dir: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """Document files under ``docs_dir``, and (path, reason) for those that cannot be read.

    Only regular files inside ``docs_dir`` qualify: a named pipe would hang a read, and a
    link out of the folder could expose any file (or /dev/zero). Hidden files and README.md
    are not documents.
    """
    if not docs_dir.is_dir():
        return [], []
    root = docs_dir.resolve()
    files: list[Path] = []
    refused: list[tuple[str, str]] = []
    for folder, dirnames, filenames in os.walk(docs_dir):  # does not follow linked folders
        here = Path(folder)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in dirnames:
            if (here / name).is_symlink() and not (here / name).resolve().is_relative_to(root):
                refused.append(((here / name).relative_to(docs_dir).as_posix(),
                                "a link pointing outside the documents folder"))  # fmt: skip
        for name in sorted(filenames):
            path = here / name
            if name.startswith(".") or name.lower() == "readme.md":
                continue
            if path.suffix.lower() not in SUFFIXES:
                continue
            relative = path.relative_to(docs_dir).as_posix()
            reason = _unreadable(path, root)
            if reason:
                refused.append((relative, reason))
            else:
                files.append(path)
    return sorted(files), refused


def _unreadable(path: Path, root: Path) -> str:
    try:
        if not path.resolve().is_relative_to(root):
            return "a link pointing outside the documents folder"
        info = path.stat()
    except OSError as err:
        return err.strerror or str(err)
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_size > MAX_FILE_BYTES:
        return f"larger than {MAX_FILE_BYTES // 1_000_000} MB"
    return ""


def candidate_files(docs_dir: Path) -> list[Path]:
    """The readable document files under ``docs_dir`` (see :func:`scan_files`)."""
    return scan_files(docs_dir)[0]
