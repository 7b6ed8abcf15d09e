"""Documents added and removed through the UI.

An upload gets a safe name, a size and text check and an atomic write into ``docs/uploads/``
(a folder git ignores). A removed document is moved into ``docs/.removed/`` (hidden, so not
indexed; also ignored by git), never deleted: a slip of the mouse loses nothing.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from pathlib import Path

from rag.errors import RagError

__all__ = [
    "MAX_UPLOAD_BYTES",
    "REMOVED_DIR",
    "UPLOADS_DIR",
    "UPLOAD_SUFFIXES",
    "DocumentNotFoundError",
    "UploadRefusedError",
    "remove_document_file",
    "sanitize_filename",
    "save_upload",
]

UPLOAD_SUFFIXES = (".txt", ".md", ".html")
MAX_UPLOAD_BYTES = 5_000_000
UPLOADS_DIR = "uploads"  # under docs/: where uploads go
REMOVED_DIR = ".removed"  # under docs/: where removed documents go (hidden: not indexed)


class UploadRefusedError(RagError):
    """An uploaded file was not saved (wrong type, too big, not text, or would overwrite)."""


class DocumentNotFoundError(RagError):
    """The document to remove is not (or no longer) in the documents folder."""


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
    from rag.corpus.documents import read_text_file

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


def remove_document_file(docs_dir: Path, relative: str, documents: set[str]) -> Path:
    """Move the document ``docs_dir/relative`` into ``docs_dir/.removed/``; return its new path.

    ``documents`` are the paths (relative, as listed) of the corpus's documents: anything else
    (a typo, ``../`` tricks, a file removed meanwhile) raises ``DocumentNotFoundError``.
    """
    if relative not in documents:
        raise DocumentNotFoundError(
            f"{relative} is not one of the documents (removed meanwhile?): refresh the list"
        )
    source = docs_dir / relative
    trash = docs_dir / REMOVED_DIR / Path(relative).parent
    trash.mkdir(parents=True, exist_ok=True)
    target = trash / source.name
    n = 2
    while target.exists():  # an earlier removal of the same name stays too
        target, n = trash / f"{source.stem}.{n}{source.suffix}", n + 1
    try:
        os.replace(source, target)
    except FileNotFoundError:
        raise DocumentNotFoundError(f"{relative} was removed meanwhile: refresh the list") from None
    return target
