"""The text of web pages: page furniture to leave out, and the main text of an HTML page.

Both the documents (rag.corpus.documents: a saved web page, a text pasted from one) and the
fetched sources (rag.corpus.sources) meet the same furniture: share buttons, "also available in",
"related articles" blocks. The rules live here, once. Whole-line matches only, so "Related
to this, ..." and "Share prices rose" in an article survive.
"""

from __future__ import annotations

import re

__all__ = ["RELATED_BLOCK", "extract_main_text", "html_to_text", "is_furniture"]

_SHARE_WORDS = (
    r"paylaş|поделиться|share(?: this)?|share on \w+|tweet|facebook|twitter|x|whatsapp|"
    r"telegram|linkedin|e-?mail|print|печать|yazdır|vk|вконтакте|поделиться в \w+|subscribe|"
    r"follow us|read (?:also|more)"
)
_SHARE_LINE = re.compile(rf"^\s*(?:(?:{_SHARE_WORDS})\s*[|·•/,:]?\s*)+$", re.IGNORECASE)
_ALSO_AVAILABLE = re.compile(
    r"^\s*(?:эта статья также доступна|статья доступна также|this article is also available|"
    r"also available in|read (?:this|it) in|bu (?:makale|yazı)(?:nın)? (?:ayrıca|diğer)|"
    r"diğer dillerde)",
    re.IGNORECASE,
)
# The heading of a trailing block of links to other pages: what follows it is navigation.
RELATED_BLOCK = re.compile(
    r"^\s*(?:похожие материалы|читайте также|смотрите также|related(?: articles| posts| news|"
    r" content| stories)?|you may also like|more from|benzer (?:içerikler|yazılar|haberler)|"
    r"ilgili (?:içerikler|yazılar|haberler))\s*:?",
    re.IGNORECASE,
)


def is_furniture(line: str) -> bool:
    """Whether a line is page furniture: share buttons, "also available in …"."""
    return bool(_SHARE_LINE.match(line) or _ALSO_AVAILABLE.match(line))


def _is_related_heading(line: str) -> bool:
    return bool(RELATED_BLOCK.fullmatch(line.strip()))


def html_to_text(html: str) -> tuple[str, str]:
    """``(title, text)`` of an HTML document of the corpus, paragraphs blank-line separated."""
    import trafilatura  # heavy: only when there is HTML to read

    text = trafilatura.extract(html, include_comments=False, include_tables=True) or ""
    # trafilatura ends each block with one line break; paragraphs here are blank-line separated
    text = "\n\n".join(line for line in text.splitlines() if line.strip())
    meta = trafilatura.extract_metadata(html)
    return (meta.title if meta and meta.title else ""), text


def extract_main_text(html: str, url: str = "") -> tuple[str, str]:
    """``(title, main text)`` of a fetched page; navigation, share and related links dropped.

    Paragraphs are separated by blank lines. When trafilatura finds no article body, the
    page's text blocks are used instead, still without the furniture.
    """
    import trafilatura

    document = trafilatura.bare_extraction(
        html, url=url or None, include_comments=False, with_metadata=True
    )
    if document is None:  # too little text for an article; still take what the page has
        document = trafilatura.extract_metadata(html)
    title = one_line(getattr(document, "title", None) or "")
    text = getattr(document, "text", None) or trafilatura.baseline(html)[1]
    lines = (line.strip() for line in text.splitlines())
    paragraphs = [
        line for line in lines if line and not (is_furniture(line) or _is_related_heading(line))
    ]
    if paragraphs and paragraphs[0] == title:
        del paragraphs[0]  # the page's own <h1>; the source file has the title as its heading
    return title, "\n\n".join(paragraphs)


def one_line(text: str) -> str:
    """``text`` with every run of white space one space."""
    return " ".join(text.split())
