"""Documents: removing boilerplate, finding paragraphs (scope units) and footnotes.

Offsets always refer to ``Document.text``: the file's text as decoded (for HTML, the main text
extracted from it). Nothing is rewritten; front matter and boilerplate are only left out of
the paragraphs. Which files are documents, and how they are decoded: :mod:`rag.corpus.files`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from rag.corpus.files import MAX_FILE_BYTES, SUFFIXES, candidate_files, read_text_file, scan_files
from rag.corpus.footnotes import (
    NOTES_HEADING,
    FootnoteList,
    Marker,
    Scope,
    find_markers,
    labels_in,
    match_entry,
    scopes_of_paragraph,
    usage_warnings,
)
from rag.corpus.front_matter import front_matter
from rag.corpus.text import FOOTNOTE_MARKER
from rag.corpus.web_text import RELATED_BLOCK, html_to_text, is_furniture
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

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
# Scope units: a list item ("- …", "* …", "1. …") and a quote line ("> …") stand alone.
_LIST_BULLET = re.compile(r"^[ \t]*(?:[-*+•]|\d{1,3}[.)])[ \t]+(?=\S)")
_QUOTE_PREFIX = re.compile(r"^[ \t]{0,3}>(?:[ \t]*>)*[ \t]?")
_RULE = re.compile(r"^[ \t]*(?:[-*_=][ \t]*){3,}$")  # "---", "* * *", a setext underline
_PUNCT = " \t\xa0.,;:!?…)]»”\"'"
Span = tuple[int, int]


@dataclass(frozen=True)
class Document:
    """A document of the corpus, with its paragraphs and footnotes located in ``text``: as
    parsed at build time, and as a loaded build holds it (``rag.index.store``)."""

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

    def footnote_counts(self) -> dict[str, int]:
        """Entries of the footnote list ("found"), those a marker uses ("used") or none does
        ("unused"), and markers whose label has no entry ("missing")."""
        listed = self.entry_spans.keys()
        used = {m.label for m in self.markers}
        return {
            "found": len(listed),
            "used": len(used & listed),
            "unused": len(listed - used),
            "missing": len(used - listed),
        }

    def labels_in(self, start: int, end: int, *, entries: bool = False) -> list[str]:
        """Labels whose scope intersects ``text[start:end]``, in order of first appearance
        (with ``entries``, then those of the footnote-list entries it intersects)."""
        if self.source_label is not None:
            return [self.source_label]
        if not entries:
            return labels_in(self.scopes, start, end)
        return labels_in(self._scopes_and_entries, start, end)

    @cached_property
    def _scopes_and_entries(self) -> tuple[Scope, ...]:
        return self.scopes + tuple(Scope(k, s, e) for k, (s, e) in self.entry_spans.items())

    def footnote(self, label: str) -> Footnote:
        """The footnote ``label`` (a bare one when the list has no entry for it)."""
        return self._by_label.get(label) or Footnote(label=label)

    @cached_property
    def _by_label(self) -> dict[str, Footnote]:
        return {f.label: f for f in self.footnotes}


def _lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each line, end excluding the line break."""
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        yield pos, pos + len(body)
        pos += len(line)


def _guess_title(text: str, lines: list[tuple[int, int]], fallback: str) -> str:
    """The first markdown heading, else the first short line that reads like a title."""
    candidates = [
        text[s:e].strip()
        for s, e in lines[:12]
        if text[s:e].strip()
        and not _LIST_BULLET.match(text[s:e])
        and not _QUOTE_PREFIX.match(text[s:e])
    ]
    for line in candidates:
        heading = _MD_HEADING.match(line)
        if heading:
            return heading.group("title")
    for line in candidates[:6]:
        words = line.split()
        if 3 <= len(words) <= 25 and len(line) <= 200 and not line.endswith((".", ":", ";")):
            return line
    return fallback


class _Units:
    """The scope units of a document, gathered line by line: paragraphs (runs of lines
    between blank lines), each list item (with its indented continuation lines) and each
    ``>`` quote line. Spans leave out the bullet or ``>`` and surrounding spaces."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spans: list[Span] = []
        self._block: list[Span] = []
        self._in_item = False
        self._after_quote = False  # the line above was a quote line (a unit already closed)

    def close(self) -> None:
        """End the current unit (at a blank line, a heading, an entry …)."""
        self._flush()
        self._after_quote = False

    def _flush(self) -> None:
        if self._block:
            self.spans.append((self._block[0][0], self._block[-1][1]))
            self._block.clear()
        self._in_item = False

    def _append(self, start: int, end: int) -> None:
        piece = self.text[start:end]
        if piece.strip():
            self._block.append((start + len(piece) - len(piece.lstrip()),
                                end - len(piece) + len(piece.rstrip())))  # fmt: skip

    def add_line(self, start: int, end: int) -> None:
        """A line of body text, ``text[start:end]``."""
        line = self.text[start:end]
        if _only_markers(line):
            # "[1]" on a line of its own supports the unit just above it.
            if not self._block and self._after_quote and self.spans:
                self.spans[-1] = (self.spans[-1][0], end - len(line) + len(line.rstrip()))
                return
            self._append(start, end)
            return
        self._after_quote = False
        quote = _QUOTE_PREFIX.match(line)
        if quote:
            self._flush()
            bullet = _LIST_BULLET.match(line[quote.end() :])
            self._append(start + quote.end() + (bullet.end() if bullet else 0), end)
            self._flush()
            self._after_quote = True
            return
        bullet = _LIST_BULLET.match(line)
        if bullet:
            self._flush()
            self._append(start + bullet.end(), end)
            self._in_item = True
            return
        if self._in_item and line[:1] not in " \t":
            self._flush()  # the text after a list is a unit of its own, not part of the item
        self._append(start, end)


def _only_markers(line: str) -> bool:
    return bool(FOOTNOTE_MARKER.search(line)) and not FOOTNOTE_MARKER.sub("", line).strip(_PUNCT)


def _continues_entry(line: str, after_blank: bool) -> bool:
    """An indented line continues the entry above it; after a blank line only when indented
    like a markdown paragraph (four spaces or a tab)."""
    indent = len(line) - len(line.lstrip(" \t"))
    return indent > 0 and (not after_blank or indent >= 4 or line.startswith("\t"))


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

    units = _Units(text)
    entries = FootnoteList()
    in_notes = after_blank = False
    previous_line = ""
    open_entry: str | None = None  # the entry an indented next line continues
    for start, end in lines:
        line = text[start:end]
        stripped = line.strip()
        if not stripped:
            units.close()
            after_blank = True
            continue
        entry = None if source_label else match_entry(line, in_notes=in_notes)
        if open_entry is not None and entry is None and _continues_entry(line, after_blank):
            # An indented line continues the entry above it (markdown footnote definitions).
            entries.extend(open_entry, start + len(line.rstrip()))
            after_blank = False
            continue
        open_entry, after_blank = None, False
        if RELATED_BLOCK.match(stripped) and len(stripped) < 80:
            break  # a trailing "related articles" block: everything after it is navigation
        if entry:
            units.close()
            entries.add(entry.label, start + entry.start, start + entry.end)
            open_entry = entry.label
            previous_line = stripped
            continue
        # A short line said twice is a byline or a caption; one with a marker is a claim.
        is_repeat = stripped == previous_line and len(stripped) <= 80
        is_repeat = is_repeat and not FOOTNOTE_MARKER.search(stripped)
        previous_line = stripped
        if NOTES_HEADING.match(stripped):
            units.close()
            in_notes = True
            continue
        in_notes = False
        if is_furniture(stripped) or is_repeat:
            units.close()
            continue
        if _MD_HEADING.match(line) or _RULE.match(line):
            units.close()  # headings name sections; they are not claims to cite
            continue
        units.add_line(start, end)
    units.close()

    footnotes, entry_spans, listed_twice = entries.resolve(text)
    warnings = [f"{path}: {warning}" for warning in listed_twice]
    markers: list[Marker] = []
    scopes: list[Scope] = []
    if not source_label:
        for para_start, para_end in units.spans:
            found = find_markers(text, para_start, para_end)
            markers.extend(found)
            scopes.extend(scopes_of_paragraph(text, para_start, para_end, found))
    used = list(dict.fromkeys(m.label for m in markers))
    warnings += usage_warnings(path, list(footnotes), used)
    for label in used:
        footnotes.setdefault(label, Footnote(label=label))
    if warnings:
        log.warning("; ".join(warnings))  # one line a document, however many footnotes
    return Document(
        doc_id=doc_id,
        title=title,
        path=path,
        text=text,
        paragraphs=tuple(units.spans),
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
                title, text = html_to_text(text)
                if not text.strip():
                    raise ValueError("no readable text in the HTML")
        except (OSError, ValueError) as err:
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            skipped.append((name, reason))
            log.warning("skipped %s: %s", name, reason)
            continue
        documents.append(parse_document(_doc_id(relative, taken), name, text, title=title))
    return documents, skipped
