"""HTML for the Gradio UI: answers with clickable markers, citation cards, tables; CSS and JS.

Pure functions (values in, HTML out), so tests check the markup without a server. Everything
from a document, a footnote or a question is escaped: a corpus may hold ``<script>`` or a
``javascript:`` link, and it must show as text."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rag.models import CITATION_MARKER, Answer, Passage
from rag.ui.cards import CardView, FootnoteView, render_card
from rag.ui.labels import labels_for

if TYPE_CHECKING:
    from rag.assistant import DocumentInfo
    from rag.corpus.sources import FetchReport
    from rag.index.build import IndexStatus

NEARBY_CHARS = 300  # of each closest passage shown when the answer abstains
# What Markdown would interpret in a chat message, as numeric entities (never Markdown syntax).
_MARKDOWN_SPECIALS = {ch: f"&#{ord(ch)};" for ch in "\\`*_{}[]()#+-!|~$:="}


@dataclass(frozen=True)
class SourcesEntry:
    """One answer's worth of the sources panel."""

    answer_id: str
    question: str
    answer: Answer
    cards: Sequence[CardView]  # one per cited paragraph, in marker order
    # For an abstention: the passages that came closest, so the reader can judge for himself.
    nearby: Sequence[Passage] = ()
    language: str = "en"  # the question's: the panel speaks it (rag.ui.labels)


def escape_text(text: str) -> str:
    """HTML-escape ``text`` and neutralise Markdown, so it renders literally in a chat bubble."""
    return "".join(_MARKDOWN_SPECIALS.get(ch) or html.escape(ch, quote=True) for ch in text)


def safe_url(url: str) -> str | None:
    """``url`` if it is an absolute http(s) URL with a host, else ``None`` (never a link)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    return url


def render_answer(
    answer: Answer, answer_id: str, language: str = "en", notes: Sequence[str] = ()
) -> str:
    """The chat message for a final answer: escaped text, markers as clickable superscripts,
    then the answer's notes and ``notes`` (the UI's own, in the question's ``language``)."""
    labels = labels_for(language)
    known = {c.marker for c in answer.citations}
    parts: list[str] = []
    pos = 0
    for match in CITATION_MARKER.finditer(answer.text):
        n = int(match.group(1))
        if n not in known:
            continue  # not one of ours: leave it in the text as written
        parts.append(escape_text(answer.text[pos : match.start()].rstrip(" ")))
        parts.append(
            f'<sup class="cite-sup"><a href="#cite-{answer_id}-{n}" class="cite-marker" '
            f'data-marker="{n}" title="{_label(labels, "show_source", n=n)}">{n}</a></sup>'
        )
        pos = match.end()
    parts.append(escape_text(answer.text[pos:]))
    body = _line_breaks("".join(parts))
    classes = "rag-answer rag-abstained" if answer.abstained else "rag-answer"
    extra = "".join(
        f'<div class="rag-note">{escape_text(n)}</div>' for n in [*answer.notes, *notes]
    )
    extra += "".join(
        f'<div class="rag-note rag-flag">{_label(labels, "unsupported")} '
        f"{escape_text(f.sentence)} ({escape_text(f.reason)})</div>"
        for f in answer.flags
    )
    # One HTML block without blank lines: Markdown leaves its inside alone.
    return f'<div class="{classes}">{body}{extra}</div>'


def render_message(text: str, kind: str = "error") -> str:
    """A plain chat message: an error the user can act on, a notice, or text still streaming."""
    return f'<div class="rag-answer rag-{kind}">{_line_breaks(escape_text(text))}</div>'


def _line_breaks(escaped: str) -> str:
    return escaped.strip().replace("\r\n", "\n").replace("\n", "<br>")


def _link(url: str, css: str = "") -> str:
    """A link for http(s) URLs only; anything else (``javascript:``, ``data:``) stays text."""
    safe = safe_url(url)
    if safe is None:
        return html.escape(url)
    shown = re.sub(r"^https?://(www\.)?", "", safe)  # the host and path say enough
    return (
        f'<a class="{css}" href="{html.escape(safe, quote=True)}" target="_blank" '
        f'rel="noopener noreferrer" title="{html.escape(safe)}">{_short(shown, 60)}</a>'
    )


def _footnote_card(view: FootnoteView, answer_id: str, labels: Mapping[str, str]) -> str:
    note = view.footnote
    status = labels["source_present"] if view.fetched else labels["source_absent"]
    meta = _link(note.url, "fn-link") if note.url else ""
    if note.accessed:
        meta += f"<span>{labels['accessed']} {html.escape(note.accessed)}</span>"
    passage = ""
    if view.passage:
        # A source passage the answer cites is its marker's target: the click lands here.
        n = view.cited_as
        caption = labels["cited_passage"].format(n=n) if n else labels["closest_passage"]
        anchor = f' id="cite-{answer_id}-{n}" data-marker="{n}"' if n and view.target else ""
        num = f'<span class="cite-num">{n}</span> ' if n else ""
        passage = (
            f'<div class="fn-caption">{html.escape(caption)}</div>'
            f'<blockquote class="fn-passage"{anchor}>{num}{html.escape(view.passage)}</blockquote>'
        )
    publisher = note.publisher or labels["unknown_publisher"]
    return (
        f'<div class="fn-card" data-label="{html.escape(note.label, quote=True)}">'
        f'<div class="fn-head"><span class="fn-label">[{html.escape(note.label)}]</span>'
        f'<span class="fn-publisher">{html.escape(publisher)}</span>'
        f'<span class="fn-status{" fn-status--ok" if view.fetched else ""}">{status}</span></div>'
        f'<div class="fn-title">{html.escape(note.title)}</div>'
        f'<div class="fn-meta">{meta}</div>{passage}</div>'
    )


def render_card_html(view: CardView, answer_id: str, language: str = "en") -> str:
    """One source card (see rag.ui.cards) with its footnote cards under it."""
    labels = labels_for(language)
    return render_card(
        view, answer_id, partial(_footnote_card, answer_id=answer_id, labels=labels), labels
    )


def _label(labels: Mapping[str, str], key: str, **values: object) -> str:
    """A label, escaped, its ``{placeholders}`` filled with ``values`` (already escaped)."""
    return html.escape(labels[key], quote=True).format(**values)


def _entry_body(entry: SourcesEntry) -> str:
    labels = labels_for(entry.language)
    if entry.answer.abstained or not entry.cards:
        empty = f'<p class="rag-empty">{_label(labels, "nothing_cited")}</p>'
        if not entry.nearby:
            return empty
        near = "".join(
            f'<blockquote class="rag-near"><span class="cite-doc">{_short(p.title or p.doc_id)}'
            f"</span><br>{_short(p.text, NEARBY_CHARS)}</blockquote>"
            for p in entry.nearby
        )
        head = f'<p class="rag-near-head">{_label(labels, "closest")}</p>'
        return empty + head + near
    return "".join(render_card_html(v, entry.answer_id, entry.language) for v in entry.cards)


def render_sources_panel(
    entries: Sequence[SourcesEntry], pending: str | None = None, language: str = "en"
) -> str:
    """The sources panel: the latest answer's cards, earlier answers folded below them.

    ``pending`` is a question being answered right now (shown as a placeholder on top), in
    ``language``; each answer's part speaks its own question's language.
    """
    labels = labels_for(language)
    parts = ['<div class="rag-sources">']
    if pending is not None:
        text = _label(labels, "searching_for", q=_short(pending))
        parts.append(f'<div class="rag-sources-head">{text}</div>')
    elif not entries:
        parts.append(f'<p class="rag-empty">{_label(labels, "panel_empty")}</p>')
    for i, entry in enumerate(reversed(entries)):
        head, body, aid = _short(entry.question), _entry_body(entry), entry.answer_id
        own = labels_for(entry.language)
        if i == 0 and pending is None:
            parts.append(
                f'<section class="rag-entry" data-answer="{aid}" lang="{entry.language}">'
                f'<div class="rag-sources-head">{_label(own, "sources_for", q=head)}</div>'
                f"{body}</section>"
            )
        else:
            parts.append(
                f'<details class="rag-entry rag-earlier" data-answer="{aid}" '
                f'lang="{entry.language}"><summary>{_label(own, "earlier", q=head)}</summary>'
                f"{body}</details>"
            )
    return "".join([*parts, "</div>"])


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return html.escape(text if len(text) <= limit else text[: limit - 1].rstrip() + "…")


def _badge(text: str, ok: bool) -> str:
    return f'<span class="rag-badge rag-badge--{"ok" if ok else "warn"}">{html.escape(text)}</span>'


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], numeric: int = 0) -> str:
    """A table of already-escaped cells; the last ``numeric`` columns are right-aligned."""

    def row(tag: str, cells: Sequence[str]) -> str:
        first = len(cells) - numeric
        return "".join(
            f"<{tag}{' class=num' if i >= first else ''}>{c}</{tag}>" for i, c in enumerate(cells)
        )

    body = "".join(f"<tr>{row('td', r)}</tr>" for r in rows)
    table = f'<table class="rag-table"><tr>{row("th", head)}</tr>{body}</table>'
    return f'<div class="rag-table-wrap">{table}</div>'


def render_settings(settings: Any) -> str:
    """The active embedder and LLM, for the Settings accordion."""
    llm = "none (answers quote the documents)"
    if settings.llm != "none":
        where = settings.llm_base_url or "the default URL"
        llm = f"{settings.llm}: {settings.llm_model or 'default model'} at {where}"
    return (
        f'<div class="rag-settings-info">Embedder: <b>{html.escape(settings.embed_model)}</b>'
        f"<br>LLM: <b>{html.escape(llm)}</b></div>"
    )


def render_index_status(status: IndexStatus, settings: Any, language: str = "en") -> str:
    """The index's state (up to date / stale / missing), embedder, build time and counts."""
    labels = labels_for(language)
    m = status.manifest or {}
    n = m.get("counts") or {}
    state = labels.get(f"state_{status.state}", status.state)
    dim = f" ({m['dim']}-d)" if m.get("dim") else ""
    # The reason is the index's own diagnostic ("documents in docs changed"), in English.
    reason = "" if status.state == "ok" else f" {html.escape(status.reason)}"
    rows = {
        labels["index"]: _badge(state, status.state == "ok") + reason,
        labels["embedder"]: html.escape(f"{m.get('embedder', settings.embed_model)}{dim}"),
        labels["built_at"]: html.escape(str(m.get("built_at", "—"))),
        labels["docs_folder"]: html.escape(str(settings.docs_dir)),
    }
    if n:
        saved = n.get("sources_fetched", 0)
        rows[labels["contents"]] = _label(
            labels,
            "contents_value",
            documents=n.get("documents", 0),
            passages=n.get("passages", 0),
            footnotes=n.get("footnotes", 0),
            present=saved,
            total=saved + n.get("sources_missing", 0),
        )
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{v}</td></tr>" for k, v in rows.items())
    return f'<table class="rag-kv">{body}</table>'


def _footnote_sources(doc: DocumentInfo, labels: Mapping[str, str]) -> str:
    """A document's footnotes as chips, green where the footnote's source text is saved."""
    if doc.source_label:
        return "—"
    if not doc.sources:
        return str(doc.footnotes)
    present = sum(1 for _name, ok in doc.sources if ok)
    chips = "".join(
        f'<span class="fn-chip{" fn-chip--ok" if ok else ""}" '
        f'title="{_label(labels, "source_present" if ok else "source_absent")}">'
        f"{html.escape(label)}</span>"
        for label, ok in doc.sources
    )
    count = _label(labels, "sources_present", present=present, total=len(doc.sources))
    return f'<div class="fn-chips">{chips}</div><div class="rag-subtle">{count}</div>'


def render_documents(docs: Sequence[DocumentInfo], language: str = "en") -> str:
    """The indexed documents as a table: title, file (and kind), language, passages, and each
    footnote with whether its source is saved."""
    labels = labels_for(language)
    if not docs:
        return f'<p class="rag-empty">{_label(labels, "no_documents")}</p>'
    rows = []
    for d in docs:
        kind = _label(labels, "kind_source", label=html.escape(d.source_label or ""))
        file = f"<code>{html.escape(d.path)}</code>"
        if d.source_label:
            file += f'<div class="rag-subtle">{kind}</div>'
        lang = labels.get(f"lang_{d.language}", d.language)
        rows.append(
            [
                html.escape(d.title),
                file,
                html.escape(lang),
                _footnote_sources(d, labels),
                str(d.passages),
            ]
        )
    keys = ("col_title", "col_file", "col_language", "col_footnotes", "col_passages")
    return _table([_label(labels, k) for k in keys], rows, numeric=1)


def render_fetch_reports(reports: Sequence[FetchReport], language: str = "en") -> str:
    """One row per footnote source: label, URL, fetched / failed / kept / skipped, and why."""
    labels = labels_for(language)
    if not reports:
        return f'<p class="rag-empty">{_label(labels, "no_fetchable")}</p>'
    rows = [
        [
            f"[{html.escape(r.label)}]",
            _link(r.url),
            _badge(r.status, r.status in ("fetched", "kept")),
            html.escape(r.reason),
        ]
        for r in reports
    ]
    head = [labels[k] for k in ("col_footnote", "col_url", "col_status", "col_details")]
    return _table([html.escape(h) for h in head], rows)


def _static(name: str) -> str:
    return resources.files("rag").joinpath("static", name).read_text("utf-8")


def page_head() -> str:
    """The page's <head> additions (static/head.html): the marker-click script."""
    return _static("head.html")


def page_css() -> str:
    """The app's stylesheet (static/ui.css)."""
    return _static("ui.css")
