"""Documents added through the UI: a safe name, a size and text check, an atomic write."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from pathlib import Path

from rag.errors import RagError

__all__ = [
    "MAX_UPLOAD_BYTES",
    "UPLOAD_SUFFIXES",
    "UploadRefusedError",
    "sanitize_filename",
    "save_upload",
]

UPLOAD_SUFFIXES = (".txt", ".md", ".html")
MAX_UPLOAD_BYTES = 5_000_000


class UploadRefusedError(RagError):
    """An uploaded file was not saved (wrong type, too big, not text, or would overwrite)."""


def sanitize_filename(name: str) -> str:
    """A safe file name for ``docs/``: no directories, no hidden files, only word characters.

    Letters of any script are kept (a Russian name stays readable); anything else becomes
    ``_``. Raises ``UploadRefusedError`` when the extension is not an accepted one.
    """
    base = unicodedata.normalize("NFKC", re.split(r"[\\/]", name)[-1]).strip()
    stem, dot, suffix = base.rpartition(".")
    suffix = f".{suffix.lower()}"
    if not dot or suffix not in UPLOAD_SUFFIXES:
        raise UploadRefusedError(
            f"“{name}” is not a .txt, .md or .html file: only those can be added"
        )
    stem = re.sub(r"[^\w.-]+", "_", stem)
    stem = re.sub(r"_{2,}", "_", stem).strip("._-")[:80].rstrip("._-")
    if stem.lower() == "readme":
        raise UploadRefusedError("README files are not indexed: rename the file and upload it")
    return f"{stem or 'document'}{suffix}"


def save_upload(source: Path, docs_dir: Path, *, overwrite: bool = False) -> Path:
    """Copy an uploaded file into ``docs_dir`` under a sanitized name, after checking it.

    Refuses (``UploadRefusedError``) files that are too big, empty or not text, and never
    replaces an existing file unless ``overwrite`` is true. The write is atomic either way.
    """
    from rag.documents import read_text_file

    name = sanitize_filename(source.name)
    size = source.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise UploadRefusedError(
            f"{name} is {size / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB"
        )
    try:
        read_text_file(source)  # the loader's own test: UTF-8 or Windows-1251 text
    except ValueError as err:
        raise UploadRefusedError(f"{name} was not added: {err}") from err
    docs_dir.mkdir(parents=True, exist_ok=True)
    target = docs_dir / name
    fd, temp_name = tempfile.mkstemp(dir=docs_dir, prefix=f".{name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(source.read_bytes())
        if overwrite:
            os.replace(temp, target)
        else:
            try:
                os.link(temp, target)  # fails if the name is taken: no check-then-write race
            except FileExistsError:
                raise UploadRefusedError(
                    f"{name} already exists in the documents folder: tick “Replace a file "
                    "with the same name” to replace it"
                ) from None
    finally:
        temp.unlink(missing_ok=True)
    return target
