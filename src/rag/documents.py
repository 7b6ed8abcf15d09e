"""Loading the corpus: removing boilerplate, finding paragraphs and footnotes.

Offsets always refer to ``Document.text``: the file's text as decoded (for HTML, the main text
extracted from it). Nothing is rewritten; boilerplate is only left out of the paragraphs.
Which files are documents, and how they are decoded: :mod:`rag.files`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rag.files import MAX_FILE_BYTES, SUFFIXES, candidate_files, read_text_file, scan_files
from rag.footnotes import (
    ENTRY_LINE,
    LIST_ITEM,
    NOTES_HEADING,
    Marker,
    Scope,
    find_markers,
    labels_in,
    parse_entry,
    scopes_of_paragraph,
)
from rag.front_matter import front_matter
from rag.models import Footnote

__all__ = [
    "MAX_FILE_BYTES",
    "SUFFIXES",
    "Document",
    "candidate_files",
    "front_matter",
    "load_documents",
    "parse_document",
    "read_text_file",
    "scan_files",
]

log = logging.getLogger(__name__)

# Boilerplate, by rules. Each is a whole line.
_SHARE_WORDS = (
    r"paylaş|поделиться|share(?: this)?|tweet|facebook|twitter|x|whatsapp|telegram|linkedin|"
    r"e-?mail|print|печать|yazdır|vk|вконтакте"
)
SHARE_LINE = re.compile(rf"^\s*(?:(?:{_SHARE_WORDS})\s*[|·•/,]?\s*)+$", re.IGNORECASE)
ALSO_AVAILABLE = re.compile(
    r"^\s*(?:эта статья также доступна|статья доступна также|this article is also available|"
    r"also available in|read (?:this|it) in|bu (?:makale|yazı)(?:nın)? (?:ayrıca|diğer)|"
    r"diğer dillerde)",
    re.IGNORECASE,
)
RELATED_BLOCK = re.compile(
    r"^\s*(?:похожие материалы|читайте также|смотрите также|related(?: articles| posts| "
    r"content| stories)?|you may also like|more from|benzer (?:içerikler|yazılar|haberler)|"
    r"ilgili (?:içerikler|yazılar|haberler))\s*:?",
    re.IGNORECASE,
)
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<title>.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Document:
    """A document of the corpus, with its paragraphs and footnotes located in ``text``."""

    doc_id: str
    title: str
    path: str
    text: str
    paragraphs: tuple[tuple[int, int], ...]
    footnotes: tuple[Footnote, ...] = ()
    entry_spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    markers: tuple[Marker, ...] = ()
    scopes: tuple[Scope, ...] = ()
    source_label: str | None = None
    source_url: str = ""
    date: str = ""  # from the front matter, as written there
    warnings: tuple[str, ...] = ()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()

    @property
    def is_source(self) -> bool:
        return self.source_label is not None

    def labels_in(self, start: int, end: int) -> list[str]:
        """Labels whose scope intersects ``text[start:end]``, in order of first appearance."""
        if self.source_label is not None:
            return [self.source_label]
        return labels_in(self.scopes, start, end)


def _lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each line, end excluding the line break."""
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        yield pos, pos + len(body)
        pos += len(line)


def _guess_title(text: str, lines: list[tuple[int, int]], fallback: str) -> str:
    """The first markdown heading, else the first short line that reads like a title."""
    candidates = [text[s:e].strip() for s, e in lines[:12] if text[s:e].strip()]
    for line in candidates:
        heading = _MD_HEADING.match(line)
        if heading:
            return heading.group("title")
    for line in candidates[:6]:
        words = line.split()
        if 3 <= len(words) <= 25 and len(line) <= 200 and not line.endswith((".", ":", ";")):
            return line
    return fallback


def parse_document(doc_id: str, path: str, text: str, *, title: str = "") -> Document:
    """Find paragraphs, boilerplate, the footnote list and the markers' scopes in ``text``.

    Front matter (YAML or TOML) gives the title and date, and is no part of any paragraph.
    """
    meta, body_start = front_matter(text)
    lines = [(s, e) for s, e in _lines(text) if s >= body_start]
    title = meta.get("title") or title or _guess_title(text, lines, Path(path).stem)
    source_label = meta.get("label") or None
    if source_label is None and path.startswith("sources/"):
        source_label = Path(path).stem.lower()

    paragraphs: list[tuple[int, int]] = []
    footnotes: dict[str, Footnote] = {}
    entry_spans: dict[str, tuple[int, int]] = {}
    warnings: list[str] = []
    block: list[tuple[int, int]] = []
    in_notes = False
    previous_line = ""
    open_entry: str | None = None  # the entry an indented next line continues

    def close_block() -> None:
        if block:
            paragraphs.append((block[0][0], block[-1][1]))
            block.clear()

    for start, end in lines:
        line = text[start:end]
        stripped = line.strip()
        if not stripped:
            close_block()
            open_entry = None
            continue
        if open_entry is not None and line[:1] in " \t" and not ENTRY_LINE.match(line):
            # An indented line continues the entry above it (markdown footnote definitions).
            body_start = entry_spans[open_entry][0]
            body_end = start + len(line.rstrip())
            footnotes[open_entry] = parse_entry(
                open_entry, " ".join(text[body_start:body_end].split())
            )
            entry_spans[open_entry] = (body_start, body_end)
            continue
        open_entry = None
        if RELATED_BLOCK.match(stripped) and len(stripped) < 80:
            break  # a trailing "related articles" block: everything after it is navigation
        entry = ENTRY_LINE.match(line) or (LIST_ITEM.match(line) if in_notes else None)
        if entry and not source_label:
            close_block()
            label = entry.group("label").lower()
            if label in footnotes:
                warnings.append(f"footnote [{label}] is defined twice; keeping the first")
            else:
                footnotes[label] = parse_entry(label, entry.group("body"))
                body_end = start + entry.start("body") + len(entry.group("body").rstrip())
                entry_spans[label] = (start + entry.start("body"), body_end)
                open_entry = label
            previous_line = stripped
            continue
        is_repeat = stripped == previous_line and len(stripped) <= 80
        previous_line = stripped
        if NOTES_HEADING.match(stripped):
            close_block()
            in_notes = True
            continue
        in_notes = False
        if SHARE_LINE.match(stripped) or ALSO_AVAILABLE.match(stripped) or is_repeat:
            close_block()
            continue
        if _MD_HEADING.match(line):
            close_block()  # headings name sections; they are not claims to cite
            continue
        block.append(
            (start + len(line) - len(line.lstrip()), end - (len(line) - len(line.rstrip())))
        )
    close_block()

    markers: list[Marker] = []
    scopes: list[Scope] = []
    if not source_label:
        for para_start, para_end in paragraphs:
            found = find_markers(text, para_start, para_end)
            markers.extend(found)
            scopes.extend(scopes_of_paragraph(text, para_start, para_end, found))
    used = {m.label for m in markers}
    for label in sorted(used - footnotes.keys()):
        warnings.append(f"{path}: marker [{label}] has no entry in the footnote list")
        footnotes[label] = Footnote(label=label)
    for label in sorted(footnotes.keys() - used):
        warnings.append(f"{path}: footnote [{label}] is listed but no marker uses it")
    for warning in warnings:
        log.warning(warning)
    return Document(
        doc_id=doc_id,
        title=title,
        path=path,
        text=text,
        paragraphs=tuple(paragraphs),
        footnotes=tuple(footnotes.values()),
        entry_spans=entry_spans,
        markers=tuple(markers),
        scopes=tuple(scopes),
        source_label=source_label,
        source_url=meta.get("url", ""),
        date=meta.get("date", ""),
        warnings=tuple(warnings),
    )


def _doc_id(relative: Path, taken: set[str]) -> str:
    stem = relative.name.split(".")[0]
    prefix = "source-" if relative.parts[0] == "sources" and len(relative.parts) > 1 else ""
    base = re.sub(r"[^\w-]+", "-", prefix + stem, flags=re.UNICODE).strip("-").lower() or "doc"
    candidate = base
    if candidate in taken:
        full = "-".join(relative.with_suffix("").parts)
        candidate = re.sub(r"[^\w-]+", "-", full).strip("-").lower()
    n = 2
    unique = candidate
    while unique in taken:
        unique, n = f"{candidate}-{n}", n + 1
    taken.add(unique)
    return unique


def _html_to_text(html: str) -> tuple[str, str]:
    import trafilatura  # heavy: only when a corpus holds HTML

    text = trafilatura.extract(html, include_comments=False, include_tables=True) or ""
    # trafilatura ends each block with one line break; paragraphs here are blank-line separated
    text = "\n\n".join(line for line in text.splitlines() if line.strip())
    meta = trafilatura.extract_metadata(html)
    return (meta.title if meta and meta.title else ""), text


def load_documents(docs_dir: Path) -> tuple[list[Document], list[tuple[str, str]]]:
    """Every readable document under ``docs_dir``, and (path, reason) for each skipped file."""
    from rag.errors import DocumentError

    if not docs_dir.is_dir():
        raise DocumentError(f"documents folder {docs_dir} does not exist: create it and add files")
    documents: list[Document] = []
    files, skipped = scan_files(docs_dir)
    for name, reason in skipped:
        log.warning("skipped %s: %s", name, reason)
    taken: set[str] = set()
    for path in files:
        relative = path.relative_to(docs_dir)
        name = relative.as_posix()
        try:
            text = read_text_file(path)
            title = ""
            if path.suffix.lower() in (".html", ".htm"):
                title, text = _html_to_text(text)
                if not text.strip():
                    raise ValueError("no readable text in the HTML")
        except (OSError, ValueError) as err:
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            skipped.append((name, reason))
            log.warning("skipped %s: %s", name, reason)
            continue
        documents.append(parse_document(_doc_id(relative, taken), name, text, title=title))
    return documents, skipped
