"""Source cards: one card per cited paragraph, showing the cited sentences and a little context.

A card shows the cited sentences with one sentence either side; the whole paragraph is one
click away (a ``<details>`` "show paragraph"). Citations from the same paragraph share one
card, each highlighted. Pure functions (values in, HTML out); everything from a document is
escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rag.corpus.chunking import split_sentences
from rag.models import Citation, Footnote

__all__ = [
    "CardView",
    "FootnoteView",
    "card_view",
    "excerpt_runs",
    "group_citations",
    "paragraph_bounds",
]

PARAGRAPH_CAP = 2000  # characters of a paragraph kept around its citations (behind the toggle)
# A context sentence longer than CONTEXT_CHARS (the article has 400-character ones) is cut to
# CONTEXT_CUT characters next to the cited one; a little over is shown whole, not cut short.
CONTEXT_CHARS = 320
CONTEXT_CUT = 240
Span = tuple[int, int]


@dataclass(frozen=True)
class FootnoteView:
    """A footnote as a card shows it: the entry, whether its source text is here, a passage."""

    footnote: Footnote
    fetched: bool
    passage: str | None = None  # a passage of the source: the closest to the claim, or ...
    cited_as: int | None = None  # ... one the answer cites, as [cited_as]
    target: bool = True  # where the marker [cited_as] leads (one footnote card per answer)


@dataclass(frozen=True)
class CardView:
    """One card: a paragraph of a document and the answer's citations inside it."""

    citations: Sequence[Citation]  # in marker order
    paragraph: str  # the paragraph (cut around the citations when very long), unescaped
    spans: Sequence[Span]  # each citation's span inside ``paragraph``, in the same order
    shown: Sequence[Span]  # the runs of ``paragraph`` shown before "show paragraph"
    footnotes: Sequence[FootnoteView]
    cut_before: bool = False  # the paragraph was cut: it goes on before / after
    cut_after: bool = False

    @property
    def markers(self) -> list[int]:
        return [c.marker for c in self.citations]

    @property
    def title(self) -> str:
        first = self.citations[0]
        return first.title or first.doc_id


def paragraph_bounds(text: str, start: int, end: int, cap: int = PARAGRAPH_CAP) -> Span:
    """The paragraph around ``text[start:end]``, as offsets into ``text``.

    Out to blank lines (Markdown wraps a paragraph over lines), else to line breaks (the
    article puts one per line); past ``cap`` characters, cut at spaces around the span. The
    bounds always hold the whole span.
    """
    start, end = max(0, start), min(len(text), end)
    budget = max(0, cap - (end - start))
    for sep in ("\n\n", "\n"):
        lo, hi = text.rfind(sep, 0, start), text.find(sep, end)
        lo, hi = (0 if lo < 0 else lo + len(sep)), (len(text) if hi < 0 else hi)
        if (start - lo) + (hi - end) <= budget:
            return lo, hi
    half = budget // 2
    if start - lo > half:
        space = text.find(" ", start - half, start)
        lo = space + 1 if space >= 0 else start - half
    if hi - end > half:
        space = text.rfind(" ", end, end + half)
        hi = space if space > end else end + half
    return lo, hi


def group_citations(
    citations: Sequence[Citation], texts: Mapping[str, str]
) -> list[list[Citation]]:
    """Citations grouped by the paragraph they quote, groups in order of their first marker.

    ``texts`` holds the full text of each document whose citations still match it; a citation
    of any other document gets a card of its own.
    """
    groups: list[tuple[str, Span, list[Citation]]] = []
    for c in sorted(citations, key=lambda c: c.marker):
        text = texts.get(c.doc_id)
        if text is None:
            groups.append((c.doc_id, (-1, -1), [c]))
            continue
        lo, hi = paragraph_bounds(text, c.start, c.end)
        for doc_id, (g_lo, g_hi), members in groups:
            if doc_id == c.doc_id and g_lo < hi and lo < g_hi:
                members.append(c)
                break
        else:
            groups.append((c.doc_id, (lo, hi), [c]))
    return [members for _doc, _span, members in groups]


def excerpt_runs(text: str, bounds: Span, cited: Sequence[Span], context: int = 1) -> list[Span]:
    """The runs of ``text`` a card shows: each cited sentence with ``context`` sentences either
    side (a long context sentence cut to its nearest part), overlapping runs merged."""
    lo, hi = bounds
    sentences = split_sentences(text, lo, hi) or [(lo, hi)]
    runs: list[Span] = []
    for start, end in sorted(cited):
        inside = [i for i, (s, e) in enumerate(sentences) if s < end and start < e]
        first, last = (inside[0], inside[-1]) if inside else (0, len(sentences) - 1)
        before, after = max(0, first - context), min(len(sentences) - 1, last + context)
        run_start = min(start, sentences[first][0])
        run_end = max(end, sentences[last][1])
        if before < first:
            run_start = _cut_before(text, sentences[before][0], run_start)
        if after > last:
            run_end = _cut_after(text, run_end, sentences[after][1])
        if runs and run_start <= runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], max(runs[-1][1], run_end))
        else:
            runs.append((run_start, run_end))
    return runs


def _cut_before(text: str, start: int, pos: int) -> int:
    """Where to start showing the context ``text[start:pos]``: all of it, or its last
    CONTEXT_CUT characters from a word's start."""
    if pos - start <= CONTEXT_CHARS:
        return start
    space = text.find(" ", pos - CONTEXT_CUT, pos)
    return pos - CONTEXT_CUT if space < 0 else space + 1


def _cut_after(text: str, pos: int, end: int) -> int:
    """Where to stop showing the context ``text[pos:end]``: all of it, or its first
    CONTEXT_CUT characters to a word's end."""
    if end - pos <= CONTEXT_CHARS:
        return end
    space = text.rfind(" ", pos + 1, pos + CONTEXT_CUT)
    return pos + CONTEXT_CUT if space < 0 else space


def card_view(
    group: Sequence[Citation], text: str | None, footnotes: Sequence[FootnoteView]
) -> CardView:
    """The card for citations of one paragraph of ``text`` (``None``: the document changed
    since the answer, so the card quotes the citation alone)."""
    if text is None:
        c = group[0]
        span = (0, len(c.text))
        return CardView(group[:1], c.text, [span], [span], footnotes)
    lo, hi = paragraph_bounds(text, min(c.start for c in group), max(c.end for c in group))
    runs = excerpt_runs(text, (lo, hi), [(c.start, c.end) for c in group])
    return CardView(
        group,
        text[lo:hi],
        [(c.start - lo, c.end - lo) for c in group],
        [(s - lo, e - lo) for s, e in runs],
        footnotes,
        cut_before=lo > 0 and text[lo - 1] not in "\n",
        cut_after=hi < len(text) and text[hi] not in "\n",
    )


def marked(text: str, span: Span, highlights: Sequence[tuple[Span, int]], tags: bool) -> str:
    """``text[span]`` escaped, each highlight in a ``<mark>`` (with its marker if ``tags``)."""
    lo, hi = span
    out: list[str] = []
    pos = lo
    for (start, end), marker in sorted(highlights):
        start, end = max(start, pos), min(end, hi)
        if end <= start:
            continue
        tag = f'<span class="cite-tag">{marker}</span>' if tags else ""
        out.append(
            f'{html.escape(text[pos:start])}{tag}<mark data-marker="{marker}">'
            f"{html.escape(text[start:end])}</mark>"
        )
        pos = end
    out.append(html.escape(text[pos:hi]))
    return "".join(out)


def render_excerpt(view: CardView) -> str:
    """The runs a card shows at first, "…" where the paragraph goes on."""
    highlights = list(zip(view.spans, view.markers, strict=True))
    tags = len(view.citations) > 1
    text = view.paragraph
    parts: list[str] = []
    for i, run in enumerate(view.shown):
        if i or view.cut_before or text[: run[0]].strip():
            parts.append("… " if i == 0 else " … ")
        parts.append(marked(text, run, highlights, tags))
    if view.shown and (view.cut_after or text[view.shown[-1][1] :].strip()):
        parts.append(" …")
    return "".join(parts)


def shows_everything(view: CardView) -> bool:
    """Whether the excerpt is the whole paragraph (then there is nothing to toggle)."""
    text = view.paragraph
    return len(view.shown) == 1 and not (
        text[: view.shown[0][0]].strip() or text[view.shown[0][1] :].strip()
    )


def render_card(
    view: CardView,
    answer_id: str,
    footnote_card: Callable[[FootnoteView], str],
    labels: Mapping[str, str],
) -> str:
    """One card: numbers and title, the excerpt, the paragraph behind a toggle, footnotes."""
    first, *others = view.markers
    anchors = "".join(
        f'<span class="cite-anchor" id="cite-{answer_id}-{n}"></span>' for n in others
    )
    nums = "".join(f'<span class="cite-num">{n}</span>' for n in view.markers)
    highlights = list(zip(view.spans, view.markers, strict=True))
    full = ""
    if not shows_everything(view):
        whole = marked(view.paragraph, (0, len(view.paragraph)), highlights, len(highlights) > 1)
        before, after = ("… " if view.cut_before else ""), (" …" if view.cut_after else "")
        full = (
            f'<details class="cite-more"><summary><span class="cite-show">{labels["show"]}'
            f'</span><span class="cite-hide">{labels["hide"]}</span></summary>'
            f'<blockquote class="cite-para cite-full">{before}{whole}{after}</blockquote>'
            "</details>"
        )
    notes = "".join(footnote_card(f) for f in view.footnotes) or (
        f'<div class="rag-empty">{labels["no_footnote"]}</div>'
    )
    markers = " ".join(str(n) for n in view.markers)
    return (
        f'<article class="cite-card" id="cite-{answer_id}-{first}" data-markers="{markers}" '
        f'tabindex="-1">{anchors}<div class="cite-head">{nums}'
        f'<span class="cite-doc">{html.escape(view.title)}</span></div>'
        f'<blockquote class="cite-para cite-excerpt">{render_excerpt(view)}</blockquote>'
        f"{full}{notes}</article>"
    )
