"""One entry of a footnote list: its URL, title, publisher and access date.

Forms understood: ``Author, “Title”, Publisher, URL, (Дата обращения: …)``; GOST
``Author I. I. Title // Publisher. Year. URL: …``; a markdown link ``[Title](url)``; a link
reference definition ``https://… "Title"``; a bare URL, plain or in ``<…>``. A URL may hold
balanced parentheses (``…/Baku_(city)``) and, inside ``<…>``, spaces.

An entry without a title takes it from its URL, from the last path segment that reads like
words (``/why-ports-grow.html`` → "Why ports grow"); a bare URL also takes the publisher
from its host.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlparse

from rag.corpus.text import MD_LINK
from rag.models import Footnote

__all__ = ["find_url", "host_of", "merge_entries", "parse_entry", "title_from_url"]

_ANGLED_URL = re.compile(r"<(?P<url>https?://[^<>\n]+)>", re.IGNORECASE)
_PLAIN_URL = re.compile(r"https?://[^\s<>\"«»“”]+", re.IGNORECASE)
# After a space, a URL goes on only with what can be nothing but more of its path: a file
# name ("my report.pdf") or a path with a sign words lack ("my docs/2024-report/"); "and/or"
# is a word.
_PATH_GOES_ON = re.compile(
    r"[ \t](?P<more>[\w%~+.-]*\.(?:pdf|html?|php|aspx?|docx?|xlsx?|txt)"
    r"|[\w%~+.-]*/[\w%~+.()/-]*(?:[\d%_.~+-]|/)[\w%~+.()/-]*)(?=[.,;:)]?(?:\s|$))",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?'’»”"
_QUOTED = re.compile(r"“(?P<a>[^”]+)”|«(?P<b>[^»]+)»|\"(?P<c>[^\"]+)\"|„(?P<d>[^“”]+)[“”]")
_WRAPPED_TITLE = re.compile(r"^\s*(?:'(?P<a>[^'\n]+)'|\((?P<b>[^()\n]+)\))\s*$")
_ACCESSED = re.compile(
    r"\(?\s*(?:дата обращения|accessed(?: on)?|retrieved(?: on)?|erişim(?: tarihi)?|"
    r"просмотрено|access date)\s*[:.]?\s*(?P<date>[^)\n]*?)\s*\)?\s*[.;]?\s*$",
    re.IGNORECASE,
)
_GOST_AUTHOR = re.compile(r"^\s*[^\W\d_]+(?:-[^\W\d_]+)?,?\s+(?:[^\W\d_]\.\s?){1,2}")
_EMPHASIS = re.compile(r"^[*_]+|[*_]+$")
_PAGE_SUFFIX = re.compile(r"\.(?:html?|php\d?|aspx?|jsp|cgi|pdf|md|txt)$", re.IGNORECASE)
_NOT_A_TITLE = frozenset({"index", "default", "amp", "print", "view", "article", "news"})


def _balanced(url: str) -> str:
    """``url`` less trailing punctuation and closing brackets it never opened."""
    while url and (
        url[-1] in _TRAILING
        or (url[-1] == ")" and url.count(")") > url.count("("))
        or (url[-1] == "]" and url.count("]") > url.count("["))
    ):
        url = url[:-1]
    return url


def find_url(body: str) -> tuple[str, int, int, str] | None:
    """The entry's URL, the span it takes in ``body``, and what to leave there instead
    (a markdown link leaves its text). Spaces inside a URL are written ``%20``."""
    link = next((m for m in MD_LINK.finditer(body) if m.group("angled") or m.group("url")), None)
    if link and re.match(r"https?://", link.group("angled") or link.group("url"), re.I):
        url = (link.group("angled") or link.group("url")).strip()
        return url.replace(" ", "%20"), link.start(), link.end(), link.group("text")
    angled = _ANGLED_URL.search(body)
    if angled:
        url = angled.group("url").strip()
        return url.replace(" ", "%20"), angled.start(), angled.end(), ""
    plain = _PLAIN_URL.search(body)
    if not plain:
        return None
    end = plain.end()
    while more := _PATH_GOES_ON.match(body, end):
        end = more.end()
    url = _balanced(body[plain.start() : end])
    return url.replace(" ", "%20"), plain.start(), plain.start() + len(url), ""


def host_of(url: str) -> str:
    """The host name of a URL, without a leading ``www.`` ("" when there is none)."""
    try:
        host = urlparse(url).hostname or ""
    except ValueError:  # "http://[::1" and the like: no host to speak of
        return ""
    return host.removeprefix("www.")


def title_from_url(url: str) -> str:
    """A title read from the URL's path: the last segment that holds words, de-slugged;
    else the host."""
    try:
        path = urlparse(url).path
    except ValueError:
        path = ""
    for segment in reversed([unquote(s) for s in path.split("/") if s]):
        words = " ".join(re.split(r"[-_+\s]+", _PAGE_SUFFIX.sub("", segment))).strip()
        if re.search(r"[^\W\d_]{3,}", words) and words.lower() not in _NOT_A_TITLE:
            return words[0].upper() + words[1:]
    return host_of(url)


def _clean(part: str) -> str:
    return _EMPHASIS.sub("", part.strip().strip(",.;:–—-").strip()).strip()


def _title_and_publisher(body: str) -> tuple[str, str]:
    """Title and publisher of an entry's text once its URL and access date are out."""
    wrapped = _WRAPPED_TITLE.match(body)
    if wrapped:  # a link reference definition's 'Title' or (Title)
        return _clean(wrapped.group("a") or wrapped.group("b")), ""
    # The title is the longest quotation: "АО «Казгеология», «Итоги разведки…»" names a company
    # in quotes first.
    quoted = max(_QUOTED.finditer(body), key=lambda m: len(m.group()), default=None)
    if "//" in body and not quoted:
        # GOST style: "Author I. I. Title // Publisher. Year. URL: … (дата обращения: …)"
        left, right = body.split("//", 1)
        title = _clean(_GOST_AUTHOR.sub("", left))
        return title, _clean(re.split(r"\.\s|,", right.strip(), maxsplit=1)[0])
    if quoted:
        title = _clean(next(g for g in quoted.groups() if g is not None))
        rest = body[quoted.end() :]
        if "//" in rest:  # "Author, «Title» // Publisher, 21.03.2025."
            return title, _clean(re.split(r"\.\s|,", rest.split("//", 1)[1].strip(), maxsplit=1)[0])
        return title, next((p for p in (_clean(p) for p in rest.split(",")) if p), "")
    parts = [p for p in (_clean(p) for p in re.split(r",|\.\s", body)) if p]
    if len(parts) == 1:
        return parts[0], ""
    if len(parts) == 2:
        return parts[0], parts[1]
    if parts:
        # "Author, Title, Publisher, …": the usual order in reference lists.
        return parts[1], parts[2]
    return "", ""


def parse_entry(label: str, body: str) -> Footnote:
    """Split one footnote entry into title, publisher, URL and access date; a missing title
    is read from the URL (:func:`title_from_url`), and a bare URL's publisher is its host."""
    url = ""
    found = find_url(body)
    if found:
        url, start, end, keep = found
        body = body[:start] + keep + body[end:]
    accessed = ""
    when = _ACCESSED.search(body)
    if when:
        accessed = when.group("date").strip(" .")
        body = body[: when.start()]
    body = re.sub(r"<\s*>|\(\s*\)|\bURL\s*:?", "", body)
    title, publisher = _title_and_publisher(body)
    if url and not title and not publisher:  # a bare URL: it is all the entry says
        title, publisher = title_from_url(url), host_of(url)
    elif url and not title:
        title = title_from_url(url)
    return Footnote(
        label=label.lower(), title=title, publisher=publisher, url=url, accessed=accessed
    )


def _same_url(a: str, b: str) -> bool:
    def key(url: str) -> str:
        return re.sub(r"^https?://(?:www\.)?", "", url.strip(), flags=re.I).rstrip("/").lower()

    return key(a) == key(b)


def _written_title(note: Footnote) -> bool:
    return bool(note.title) and not (note.url and note.title == title_from_url(note.url))


def _written_publisher(note: Footnote) -> bool:
    return bool(note.publisher) and not (note.url and note.publisher == host_of(note.url))


def merge_entries(first: Footnote, second: Footnote) -> Footnote | None:
    """One footnote from two entries of the same label (a list of bare URLs, then link
    reference definitions with titles): what is written wins over what the URL suggests,
    the first entry over the second. ``None`` when they name different URLs."""
    if first.url and second.url and not _same_url(first.url, second.url):
        return None
    url = first.url or second.url
    title = next((n.title for n in (first, second) if _written_title(n)), "")
    publisher = next((n.publisher for n in (first, second) if _written_publisher(n)), "")
    return Footnote(
        label=first.label,
        title=title or first.title or second.title,
        publisher=publisher or first.publisher or second.publisher,
        url=url,
        accessed=first.accessed or second.accessed,
    )
