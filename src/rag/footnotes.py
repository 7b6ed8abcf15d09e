"""Footnotes: the list at the end of a document, the markers in its body, and their scopes.

Forms understood (by general rules, not for one article):

* bracketed entries at the start of a line: ``[iii] Author, “Title”, Publisher, URL, (…)``;
* markdown definitions: ``[^3]: …``;
* a numbered list under a heading such as «Примечания», «Источники», "Notes", "References":
  ``1. …`` / ``1) …`` / ``[1] …``.

Scope rule: a marker supports the text before it, back to the previous marker or the start
of its paragraph. Markers written back to back (``[1][2]``) share one scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlparse

from rag.models import Footnote
from rag.text import FOOTNOTE_MARKER

__all__ = [
    "ENTRY_LINE",
    "LIST_ITEM",
    "NOTES_HEADING",
    "Marker",
    "Scope",
    "find_markers",
    "labels_in",
    "parse_entry",
    "scopes_of_paragraph",
]

_LABEL = r"(?P<label>\d{1,3}|[ivxlcdm]{1,7})"
# "[iii] text", "[^3]: text", "[12]. text" at the start of a line.
_SPACE = r"[^\S\r\n]"  # any whitespace but a line break (entries use no-break spaces)
ENTRY_LINE = re.compile(rf"^{_SPACE}*\[\^?{_LABEL}\][:.]?{_SPACE}+(?P<body>\S.*)$", re.IGNORECASE)
# "1. text", "1) text", "^1 text" inside a notes section.
LIST_ITEM = re.compile(rf"^{_SPACE}*\^?{_LABEL}[.)]?{_SPACE}+(?P<body>\S.*)$", re.IGNORECASE)
NOTES_HEADING = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:примечания|сноски|источники(?: и литература)?|литература|"
    r"список (?:использованн\w+ )?(?:литературы|источников)|использованные источники|"
    r"библиография|ссылки|notes|footnotes|endnotes|references|sources|bibliography|"
    r"works cited|citations|kaynaklar|kaynakça|dipnotlar|notlar)[ \t]*:?[ \t]*$",
    re.IGNORECASE,
)

_URL = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)
_MD_LINK = re.compile(r"\[(?P<text>[^\]]+)\]\((?P<url>https?://[^)\s]+)\)", re.IGNORECASE)
_QUOTED = re.compile(r"“(?P<a>[^”]+)”|«(?P<b>[^»]+)»|\"(?P<c>[^\"]+)\"|„(?P<d>[^“”]+)[“”]")
_ACCESSED = re.compile(
    r"\(?\s*(?:дата обращения|accessed(?: on)?|retrieved(?: on)?|erişim(?: tarihi)?|"
    r"просмотрено|access date)\s*[:.]?\s*(?P<date>[^)\n]*?)\s*\)?\s*[.;]?\s*$",
    re.IGNORECASE,
)
_GOST_AUTHOR = re.compile(r"^\s*[^\W\d_]+(?:-[^\W\d_]+)?,?\s+(?:[^\W\d_]\.\s?){1,2}")
_EMPHASIS = re.compile(r"^[*_]+|[*_]+$")


_CLOSING = " \t\r\n\xa0.,;:!?…)]»”\"'"


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


def _clean(part: str) -> str:
    return _EMPHASIS.sub("", part.strip().strip(",.;:–—-").strip()).strip()


def parse_entry(label: str, body: str) -> Footnote:
    """Split one footnote entry into title, publisher, URL and access date."""
    label = label.lower()
    url = ""
    link = _MD_LINK.search(body)
    if link:
        url = link.group("url")
        body = body[: link.start()] + link.group("text") + body[link.end() :]
    else:
        found = _URL.search(body)
        if found:
            url = found.group().rstrip(".,;")
            body = body[: found.start()] + body[found.end() :]
    accessed = ""
    when = _ACCESSED.search(body)
    if when:
        accessed = when.group("date").strip(" .")
        body = body[: when.start()]
    body = re.sub(r"<\s*>|\(\s*\)|\bURL\s*:?", "", body)

    title, publisher = "", ""
    # The title is the longest quotation: "АО «Казгеология», «Итоги разведки…»" names a company
    # in quotes first.
    quoted = max(_QUOTED.finditer(body), key=lambda m: len(m.group()), default=None)
    if "//" in body and not quoted:
        # GOST style: "Author I. I. Title // Publisher. Year. URL: … (дата обращения: …)"
        left, right = body.split("//", 1)
        title = _clean(_GOST_AUTHOR.sub("", left))
        publisher = _clean(re.split(r"\.\s|,", right.strip(), maxsplit=1)[0])
    elif quoted:
        title = _clean(next(g for g in quoted.groups() if g is not None))
        rest = body[quoted.end() :]
        if "//" in rest:  # "Author, «Title» // Publisher, 21.03.2025."
            publisher = _clean(re.split(r"\.\s|,", rest.split("//", 1)[1].strip(), maxsplit=1)[0])
        else:
            publisher = next((p for p in (_clean(p) for p in rest.split(",")) if p), "")
    else:
        parts = [p for p in (_clean(p) for p in re.split(r",|\.\s", body)) if p]
        if len(parts) == 1:
            title = parts[0]
        elif len(parts) == 2:
            title, publisher = parts
        elif parts:
            # "Author, Title, Publisher, …": the usual order in reference lists.
            title, publisher = parts[1], parts[2]
    if not title and url:
        title = url
    return Footnote(label=label, title=title, publisher=publisher, url=url, accessed=accessed)


def host_of(url: str) -> str:
    """The host name of a URL, without a leading ``www.`` ("" when there is none)."""
    host = urlparse(url).hostname or ""
    return host.removeprefix("www.")


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
