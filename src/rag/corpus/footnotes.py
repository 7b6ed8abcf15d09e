"""Footnotes: the lines of a footnote list, the markers in the body, and their scopes.

Forms of a footnote-list line (by general rules, not for one article):

* a bracketed entry at the start of a line: ``[iii] Author, “Title”, Publisher, URL, (…)``;
* a markdown definition, numbered or named: ``[^3]: …``, ``[^costs]: …``, continued on
  indented lines (see :mod:`rag.corpus.documents`);
* a link reference definition: ``[1]: https://… "Title"``;
* a numbered list under a heading such as «Примечания», «Литература», "Notes", "Sources",
  "Kaynakça" (``# KAYNAKÇA``, any level, any case, or a plain line): ``1. …`` / ``1) …`` /
  ``[1] …`` / ``- [1] …``.

What an entry says is read by :mod:`rag.corpus.footnote_entries`.

Scope rule: a marker supports the text before it, back to the previous marker or the start
of its paragraph (a list item or a quote line is a paragraph of its own). Markers written
back to back (``[1][2]``, ``[^1] [^2]``) share one scope; a marker may stand before the full
stop (``word[^1].``), after it, or after a space (``… sentence. [1]``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rag.corpus.footnote_entries import host_of, merge_entries, parse_entry
from rag.corpus.text import FOOTNOTE_MARKER
from rag.models import Footnote

Span = tuple[int, int]

__all__ = [
    "NOTES_HEADING",
    "EntryLine",
    "FootnoteList",
    "Marker",
    "Scope",
    "find_markers",
    "host_of",
    "labels_in",
    "match_entry",
    "parse_entry",
    "scopes_of_paragraph",
    "usage_warnings",
]

_SPACE = r"[^\S\r\n]"  # any whitespace but a line break (entries use no-break spaces)
_SHORT_LABEL = re.compile(r"\d{1,3}|[ivxlcdm]{1,7}", re.IGNORECASE)
# "[iii] text", "[^3]: text", "[^costs]: text", "[1]: https://…", "[12]. text".
_BRACKETED_ENTRY = re.compile(
    rf"^{_SPACE}*(?P<bullet>[-*+•]{_SPACE}+)?\[(?P<caret>\^)?(?P<label>\w[\w-]{{0,39}})\]"
    rf"(?P<sep>[:.])?(?P<space>{_SPACE}*)(?P<body>\S.*?){_SPACE}*$"
)
# "1. text", "1) text", "^1 text" inside a notes section.
_NUMBERED_ENTRY = re.compile(
    rf"^{_SPACE}*\^?(?P<label>\d{{1,3}}|[ivxlcdm]{{1,7}})[.)]?{_SPACE}+(?P<body>\S.*?){_SPACE}*$",
    re.IGNORECASE,
)
_NOTES_WORDS = (
    r"(?:примечания|сноски|источники(?: и литература)?|литература|"
    r"список (?:использованн\w+ )?(?:литературы|источников)|использованные источники|"
    r"библиография|ссылки|notes|footnotes|endnotes|references|sources|bibliography|"
    r"works cited|citations|kaynaklar|kaynakça|dipnotlar|notlar)"
)
NOTES_HEADING = re.compile(
    rf"^[ \t]*(?:#{{1,6}}[ \t]*)?[*_]{{0,2}}{_NOTES_WORDS}"
    rf"(?:[ \t]+(?:and|&|и|ve)[ \t]+{_NOTES_WORDS})?[ \t]*:?[*_]{{0,2}}[ \t]*:?[ \t]*#*[ \t]*$",
    re.IGNORECASE,
)

_CLOSING = " \t\r\n\xa0.,;:!?…)]»”\"'"


@dataclass(frozen=True, slots=True)
class EntryLine:
    """A line of a footnote list: its label and where its text is, ``line[start:end]``."""

    label: str
    start: int
    end: int


def match_entry(line: str, *, in_notes: bool) -> EntryLine | None:
    """The footnote entry that ``line`` starts, if any.

    Anywhere: ``[label] …`` with a numeric or roman label, ``[^label]: …`` with any label of
    letters, digits, ``-`` and ``_``. Under a notes heading also ``1. …``, ``1) …`` and a
    bulleted ``- [1] …``.
    """
    found = _BRACKETED_ENTRY.match(line)
    if found and (in_notes or not found.group("bullet")):
        label, named = found.group("label"), found.group("caret") and found.group("sep") == ":"
        spaced = bool(found.group("space")) or found.group("sep") == ":"
        if spaced and (named or _SHORT_LABEL.fullmatch(label)):
            return EntryLine(label.lower(), found.start("body"), found.end("body"))
    numbered = _NUMBERED_ENTRY.match(line) if in_notes else None
    if numbered:
        label = numbered.group("label").lower()
        return EntryLine(label, numbered.start("body"), numbered.end("body"))
    return None


@dataclass(frozen=True, slots=True)
class Marker:
    """A footnote marker in the body: ``text[start:end] == "[label]"`` (or ``[^label]``)."""

    label: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Scope:
    """The text a footnote supports: ``text[start:end]``."""

    label: str
    start: int
    end: int


def labels_in(scopes: Iterable[Scope], start: int, end: int) -> list[str]:
    """Labels of the scopes that intersect ``[start, end)``, in order of first appearance."""
    labels: list[str] = []
    for scope in scopes:
        if scope.start < end and start < scope.end and scope.label not in labels:
            labels.append(scope.label)
    return labels


def find_markers(text: str, start: int, end: int) -> list[Marker]:
    """Every footnote marker inside ``text[start:end]``."""
    return [
        Marker(m.group("label").lower(), m.start(), m.end())
        for m in FOOTNOTE_MARKER.finditer(text, start, end)
    ]


def scopes_of_paragraph(text: str, start: int, end: int, markers: list[Marker]) -> list[Scope]:
    """Apply the scope rule to one paragraph ``text[start:end]`` and its markers."""
    scopes: list[Scope] = []
    previous_end = start
    previous_scope: tuple[int, int] | None = None
    for marker in markers:
        gap = text[previous_end : marker.start]
        if previous_scope is not None and not gap.strip(_CLOSING):
            # "[1][2]": the second marker supports the same text as the first.
            span = previous_scope
        else:
            # Punctuation right after the previous marker ("…[2]. Next") closes that claim.
            left = previous_end + (len(gap) - len(gap.lstrip(_CLOSING)))
            right = marker.start - (len(gap) - len(gap.rstrip()))
            span = (left, right)
        scopes.append(Scope(marker.label, *span))
        previous_scope = span
        previous_end = marker.end
    return scopes


class FootnoteList:
    """The entries of a document's footnote list, gathered line by line, then resolved.

    A label listed twice (a numbered list of bare URLs, then link reference definitions
    ``[1]: https://… "Title"``) becomes one footnote: what is written beats what the URL
    suggests (see :func:`rag.corpus.footnote_entries.merge_entries`). Two entries naming different
    URLs keep the first, with a warning.
    """

    def __init__(self) -> None:
        self._definitions: dict[str, list[Span]] = {}

    def add(self, label: str, start: int, end: int) -> None:
        """An entry of ``label`` whose text is ``text[start:end]``."""
        self._definitions.setdefault(label, []).append((start, end))

    def extend(self, label: str, end: int) -> None:
        """The latest entry of ``label`` goes on to ``end`` (an indented continuation line)."""
        start, _ = self._definitions[label][-1]
        self._definitions[label][-1] = (start, end)

    def resolve(self, text: str) -> tuple[dict[str, Footnote], dict[str, Span], list[str]]:
        """The footnotes by label, the span of the entry each is quoted from, and warnings."""
        notes: dict[str, Footnote] = {}
        spans: dict[str, Span] = {}
        warnings: list[str] = []
        for label, definitions in self._definitions.items():
            parsed = [(parse_entry(label, _entry_text(text, s, e)), (s, e)) for s, e in definitions]
            merged, accepted = parsed[0][0], parsed[:1]
            for note, span in parsed[1:]:
                combined = merge_entries(merged, note)
                if combined is None:
                    warnings.append(f"footnote [{label}] is listed twice with different URLs; "
                                    "keeping the first")  # fmt: skip
                    continue
                merged = combined
                accepted.append((note, span))
            notes[label] = merged
            # Quote the entry the title comes from: it says most about the source.
            spans[label] = next(
                (span for note, span in accepted if note.title == merged.title), accepted[0][1]
            )
        return notes, spans, warnings


def _entry_text(text: str, start: int, end: int) -> str:
    """An entry's text; one continued on further lines is joined into one line."""
    body = text[start:end]
    return " ".join(body.split()) if "\n" in body or "\r" in body else body


def usage_warnings(path: str, listed: list[str], used: list[str]) -> list[str]:
    """One line for the markers without an entry, one for the entries no marker uses."""
    warnings = []
    missing = [label for label in used if label not in listed]
    unused = [label for label in listed if label not in used]
    if missing:
        verb = "has" if len(missing) == 1 else "have"
        warnings.append(f"{path}: {_some(missing, 'marker')} {verb} no entry in the footnote list")
    if unused:
        verb = "is" if len(unused) == 1 else "are"
        warnings.append(f"{path}: {_some(unused, 'footnote')} {verb} listed but no marker uses "
                        f"{'it' if len(unused) == 1 else 'them'}")  # fmt: skip
    return warnings


def _some(labels: list[str], noun: str, shown: int = 8) -> str:
    """ "footnote [3]", "footnotes [1], [2]", "40 footnotes ([1], [2], … and 32 more)"."""
    names = ", ".join(f"[{label}]" for label in labels[:shown])
    if len(labels) == 1:
        return f"{noun} {names}"
    if len(labels) <= shown:
        return f"{noun}s {names}"
    return f"{len(labels)} {noun}s ({names} and {len(labels) - shown} more)"
