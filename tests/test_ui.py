"""The UI in-process: rendering (escaping, markers, cards), uploads, handlers, the app builds.

Uses the ``hash`` embedder and a small footnoted document, so it runs in about a second.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from html import unescape
from pathlib import Path
from types import SimpleNamespace

import pytest

import rag
from helpers.shared import settings_for
from rag.corpus.sources import FetchReport
from rag.models import Answer, Citation, Footnote, Passage
from rag.ui.app import AssistantUI
from rag.ui.cards import (
    CardView,
    FootnoteView,
    card_view,
    excerpt_runs,
    group_citations,
    paragraph_bounds,
)
from rag.ui.render import (
    SourcesEntry,
    escape_text,
    render_answer,
    render_card_html,
    render_fetch_reports,
    render_sources_panel,
    safe_url,
)

HARBOR = """# Harbor Report

The new harbor of Port Velna opened in March 2031 with three deep-water berths.[1] The city \
council approved a second terminal in 2032.[2]

Visitors reported <script>window.__pwned=1</script> banners and a \
[prize link](javascript:alert(1)) at the gate. Officials removed them within a day.

## Notes

[1] “Port Velna opens”, Example News, https://example.com/velna, (Accessed: 01.04.2031).
[2] “Second terminal approved”, Coast Daily, https://coast.example.org/t, (Accessed: 02.02.2032).
"""

# A source "saved by hand" for footnote [1]: the card should say it was fetched and quote it.
SOURCE_1 = """---
label: 1
url: https://example.com/velna
title: Port Velna opens
fetched: 2031-04-01T00:00:00+00:00
---

# Port Velna opens

The port authority said the Velna harbor opened to ships in March 2031 with three berths.
"""

NOTE = Footnote("1", "Port Velna opens", "Example News", "https://example.com/velna", "01.04.2031")


def harbor_corpus(docs: Path) -> None:
    (docs / "sources").mkdir()
    (docs / "harbor.md").write_text(HARBOR, "utf-8")
    (docs / "sources" / "1.md").write_text(SOURCE_1, "utf-8")


def _ui(settings: rag.Settings) -> AssistantUI:
    assistant = rag.Assistant(settings)
    assistant.build_index()
    return AssistantUI(assistant)


@pytest.fixture
def ui(shared_index: Callable[..., rag.Settings]) -> AssistantUI:
    """The UI over the harbor corpus's shared index, for the tests that only read it."""
    return _ui(shared_index("harbor", harbor_corpus))


@pytest.fixture
def own_ui(tmp_path: Path) -> AssistantUI:
    """The UI over its own harbor corpus in ``tmp_path``, for a test that changes it."""
    docs = tmp_path / "docs"
    docs.mkdir()
    harbor_corpus(docs)
    return _ui(settings_for(docs, tmp_path / "index"))


def citation(marker: int, text: str, *, notes: list[Footnote] | None = None) -> Citation:
    return Citation(
        marker=marker, doc_id="doc", title="Doc <b>title</b>", text=text, start=0,
        end=len(text), footnotes=notes or [],
    )  # fmt: skip


def final(ui: AssistantUI, question: str) -> tuple[str, str]:
    """The last (chat message, sources panel) that ``answer`` yields."""
    *_, (chat, panel, _entries) = ui.answer(question, [], [], 5, "extractive")
    return chat[-1]["content"], panel


# -- rendering -------------------------------------------------------------------------------


def test_escape_text_leaves_no_html_and_no_markdown() -> None:
    out = escape_text('<script>alert(1)</script> [x](javascript:alert(1)) **b** $$x$$ "q"')
    for raw in ("<", ">", "[", "](", "**", "$$", '"'):
        assert raw not in out


def test_markers_become_clickable_superscripts() -> None:
    answer = Answer(
        text="Harbor opened in 2031. [1] A terminal followed. [2] See [3].",
        citations=[citation(1, "a"), citation(2, "b")],
    )
    html = render_answer(answer, "a7")
    assert html.count('class="cite-marker"') == 2
    assert '<sup class="cite-sup"><a href="#cite-a7-1"' in html
    assert 'href="#cite-a7-2"' in html
    assert "[1]" not in html and "&#91;3&#93;" in html  # [3] has no citation: left as text


def test_answer_text_from_documents_is_escaped() -> None:
    answer = Answer(text="Said <script>x()</script> <img src=x onerror=y()>. [1]",
                    citations=[citation(1, "a")])  # fmt: skip
    html = render_answer(answer, "a1")
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def cited(marker: int, text: str, quote: str, *, notes: list[Footnote] | None = None) -> Citation:
    """A citation of ``quote`` where it stands in ``text`` (document "doc")."""
    start = text.index(quote)
    return Citation(
        marker=marker, doc_id="doc", title="Doc <b>title</b>", text=quote, start=start,
        end=start + len(quote), footnotes=notes or [],
    )  # fmt: skip


# A paragraph of seven sentences, then another paragraph.
LONG_PARAGRAPH = (
    "Intro.\n\nOne is first. Two comes next. Three is cited here.[1] Four sits between. "
    "Five is cited too. Six follows. Seven ends it.\n\nAnother paragraph."
)


def test_citation_card_marks_the_cited_span_and_escapes_the_paragraph() -> None:
    text = "Before <script>bad()</script>. The cited claim.[1] After."
    c = cited(1, text, "The cited claim.[1]")
    view = card_view([c], text, [FootnoteView(NOTE, fetched=False)])
    html = render_card_html(view, "a1")
    assert 'id="cite-a1-1"' in html
    assert '<mark data-marker="1">The cited claim.[1]</mark>' in html
    assert "<script" not in html and "&lt;script&gt;bad()&lt;/script&gt;" in html
    assert "Doc &lt;b&gt;title&lt;/b&gt;" in html
    assert "Example News" in html and "source not saved" in html
    assert 'href="https://example.com/velna"' in html and 'rel="noopener noreferrer"' in html
    assert "cite-more" not in html  # three sentences: all shown, nothing to unfold


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "//evil", "ftp://x/y"]
)
def test_only_http_urls_become_links(url: str) -> None:
    assert safe_url(url) is None
    note = Footnote("9", "t", "p", url)
    view = CardView([citation(1, "x")], "x", [(0, 1)], [(0, 1)], [FootnoteView(note, False)])
    assert "href" not in render_card_html(view, "a1")
    assert "href" not in render_fetch_reports([FetchReport("9", url, "failed", "bad scheme")])


def test_paragraph_bounds_finds_the_paragraph_and_caps_it() -> None:
    text = "Title\n\nFirst line of p,\nsecond line. Cited here.\n\nNext paragraph."
    start = text.index("Cited")
    lo, hi = paragraph_bounds(text, start, start + 11)
    assert text[lo:hi] == "First line of p,\nsecond line. Cited here."
    long = "word " * 400 + "CITED." + " word" * 400
    start = long.index("CITED")
    lo, hi = paragraph_bounds(long, start, start + 6, cap=200)
    assert lo <= start and start + 6 <= hi and hi - lo <= 210


def test_a_card_shows_the_cited_sentence_with_one_either_side() -> None:
    c = cited(1, LONG_PARAGRAPH, "Three is cited here.[1]")
    view = card_view([c], LONG_PARAGRAPH, [])
    shown = [view.paragraph[s:e] for s, e in view.shown]
    assert shown == ["Two comes next. Three is cited here.[1] Four sits between."]
    html = render_card_html(view, "a1")
    excerpt = html.split('class="cite-para cite-excerpt">')[1].split("</blockquote>")[0]
    assert excerpt.startswith("… Two comes next.") and excerpt.endswith("Four sits between. …")
    assert "Seven ends it." not in excerpt and "Another paragraph" not in html
    # The whole paragraph is behind the toggle, closed.
    assert '<details class="cite-more"><summary>' in html and "show paragraph" in html
    full = html.split('class="cite-para cite-full">')[1]
    assert "One is first." in full and "Seven ends it." in full


def test_citations_of_one_paragraph_share_a_card_with_two_highlights() -> None:
    other = Footnote("2", "Other", "Coast Daily", "https://coast.example.org/t")
    one = cited(1, LONG_PARAGRAPH, "Three is cited here.[1]", notes=[NOTE])
    two = cited(2, LONG_PARAGRAPH, "Five is cited too.", notes=[NOTE, other])
    elsewhere = cited(3, LONG_PARAGRAPH, "Another paragraph.")
    groups = group_citations([two, elsewhere, one], {"doc": LONG_PARAGRAPH})
    assert [[c.marker for c in g] for g in groups] == [[1, 2], [3]]
    notes = [FootnoteView(NOTE, False), FootnoteView(other, False)]
    view = card_view(groups[0], LONG_PARAGRAPH, notes)
    # Sentences 2-6: each cited one with its neighbours, one run since they touch.
    assert [view.paragraph[s:e] for s, e in view.shown] == [
        "Two comes next. Three is cited here.[1] Four sits between. Five is cited too. Six follows."
    ]
    html = render_card_html(view, "a1")
    excerpt = html.split('class="cite-para cite-excerpt">')[1].split("</blockquote>")[0]
    assert excerpt.count("<mark") == 2 and 'data-marker="2"' in excerpt
    assert html.count('class="cite-card"') == 1 and html.count('class="fn-card"') == 2
    # Both markers lead here: [1] is the card's id, [2] an anchor inside it.
    assert 'id="cite-a1-1"' in html and '<span class="cite-anchor" id="cite-a1-2">' in html


def test_far_apart_citations_show_two_runs() -> None:
    text = "S1. S2 cited. S3. S4. S5. S6. S7 cited. S8."
    runs = excerpt_runs(text, (0, len(text)), [(4, 13), (30, 39)])
    assert [text[s:e] for s, e in runs] == ["S1. S2 cited. S3.", "S6. S7 cited. S8."]
    view = card_view([cited(1, text, "S2 cited."), cited(2, text, "S7 cited.")], text, [])
    assert "S3. … S6." in render_card_html(view, "a1")


def test_a_long_context_sentence_is_cut_to_its_nearest_part() -> None:
    long = "Lead-in words " * 60
    text = f"{long.strip()}. The claim.[1] Next one."
    view = card_view([cited(1, text, "The claim.[1]")], text, [])
    before = view.paragraph[view.shown[0][0] : view.spans[0][0]]
    assert 100 < len(before) <= 270 and before.split(" ")[0] in ("Lead-in", "words")
    assert render_card_html(view, "a1").split('cite-excerpt">')[1].startswith("… ")


def test_a_card_for_a_changed_document_quotes_the_citation_alone() -> None:
    view = card_view([citation(1, "opened in 2031")], None, [])
    assert view.paragraph == "opened in 2031" and "cite-more" not in render_card_html(view, "a")


def test_sources_panel_keeps_latest_answer_open_and_earlier_folded(ui: AssistantUI) -> None:
    entries = []
    for question in ("When did the harbor of Port Velna open?", "What did visitors report?"):
        *_, (_chat, _panel, entries) = ui.answer(question, [], entries, 5, "extractive")
    panel = render_sources_panel(entries)
    assert panel.count('<details class="rag-entry rag-earlier"') == 1
    assert panel.index("What did visitors report?") < panel.index("Earlier:")


# -- answering through the UI ------------------------------------------------------------------


def test_answer_shows_marker_and_a_card_per_citation(ui: AssistantUI) -> None:
    message, panel = final(ui, "When did the harbor of Port Velna open?")
    assert 'class="cite-marker"' in message and "2031" in message
    markers = message.count('class="cite-marker"')
    assert 1 <= panel.count('class="cite-card"') <= markers
    for n in range(1, markers + 1):
        assert f'id="cite-a1-{n}"' in panel  # every marker leads to its card
    assert "<mark" in panel and "Example News" in panel
    assert 'href="https://example.com/velna"' in panel
    # Footnote [1]'s source is saved in docs/sources: the card says so and quotes it.
    assert "source saved" in panel and 'class="fn-passage"' in panel


def test_document_html_is_shown_as_text(ui: AssistantUI) -> None:
    message, panel = final(ui, "What did visitors report at the gate?")
    for html in (message, panel):
        assert "<script" not in html
        assert 'href="javascript' not in html.lower()
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in panel


def test_errors_are_a_message_in_the_chat(ui: AssistantUI) -> None:
    message, panel = final(ui, "   ")
    assert "rag-error" in message and "empty" in message
    assert "Traceback" not in message and "cite-card" not in panel


def test_abstention_reads_as_not_in_these_documents(ui: AssistantUI) -> None:
    message, panel = final(ui, "What is the population of Mars?")
    assert "rag-abstained" in message and "cite-marker" not in message
    assert "nothing is cited" in panel
    # The closest passages are shown for the reader to judge, as text, never as citations.
    assert "Closest passages" in panel and panel.count('class="rag-near"') == 3
    assert "cite-card" not in panel


def test_closest_passages_are_escaped_and_shortened() -> None:
    near = Passage(
        doc_id="d", title="<b>T</b>", text="<script>x()</script> " + "word " * 200, start=0, end=1
    )
    entry = SourcesEntry("a1", "q", Answer("No.", abstained=True), [], [near])
    panel = render_sources_panel([entry])
    assert "<script>" not in panel and "&lt;script&gt;" in panel and "&lt;b&gt;" in panel
    assert len(panel) < 1200


class StreamingAssistant:
    """Streams like an LLM-backed Assistant: text deltas, then the verified Answer."""

    settings = rag.Settings(embed_model="hash", llm="openai-like", llm_model="tiny")

    def stream(self, question: str, k: int | None = None, mode: str | None = None):
        yield "The port "
        yield "opened in 2031. [1]"
        yield Answer("The port opened in 2031. [1]", [citation(1, "opened in 2031")], mode="llm")

    def document_text(self, doc_id: str) -> str | None:
        return None  # the cited document is gone: cards quote the citation


def test_llm_answer_streams_then_gets_its_markers() -> None:
    ui = AssistantUI(StreamingAssistant())  # type: ignore[arg-type]
    steps = [chat[-1]["content"] for chat, _panel, _ in ui.answer("When?", [], [], 5, "llm")]
    assert "rag-pending" in steps[0]
    assert any("rag-streaming" in s and "opened in 2031" in s for s in steps[1:-1])
    assert "cite-marker" in steps[-1] and "rag-streaming" not in steps[-1]


class BrokenAssistant(StreamingAssistant):
    def stream(self, question: str, k: int | None = None, mode: str | None = None):
        yield "The port "
        raise RuntimeError("internal detail")


def test_an_unexpected_failure_is_a_short_message_not_a_traceback(caplog) -> None:
    ui = AssistantUI(BrokenAssistant())  # type: ignore[arg-type]
    *_, (chat, _panel, entries) = ui.answer("When?", [], [], 5, "llm")
    assert "rag-error" in chat[-1]["content"] and "internal detail" not in chat[-1]["content"]
    assert entries == [] and "internal detail" in caplog.text  # the log has the details


def test_llm_mode_is_offered_only_when_configured(ui: AssistantUI) -> None:
    import gradio as gr

    def modes(app: gr.Blocks) -> list[str]:
        radio = next(b for b in app.blocks.values() if isinstance(b, gr.Radio))
        return [value for _label, value in radio.choices]

    assert modes(ui.create_app()) == ["extractive"]
    llm_ui = AssistantUI(StreamingAssistant())  # type: ignore[arg-type]
    assert modes(llm_ui.create_app()) == ["extractive", "llm"]


def test_the_top_k_slider_is_shown_only_where_it_means_something(ui: AssistantUI) -> None:
    """top-k is what the LLM reads; the extractive answer has none, so no slider for it."""
    import gradio as gr

    def slider(app: gr.Blocks) -> gr.Slider:
        return next(b for b in app.blocks.values() if isinstance(b, gr.Slider))

    assert not slider(ui.create_app()).visible
    llm_slider = slider(AssistantUI(StreamingAssistant()).create_app())  # type: ignore[arg-type]
    assert llm_slider.visible and "LLM" in llm_slider.label


def test_upload_indexes_the_document_and_remove_takes_it_out(
    own_ui: AssistantUI, tmp_path: Path
) -> None:
    ui = own_ui
    docs_dir = ui.assistant.settings.docs_dir
    new = tmp_path / "upload" / "lisbon cable.md"
    new.parent.mkdir()
    new.write_text("# Cable\n\nThe Lisbon cable project is code-named Blue Heron.\n", "utf-8")
    tab = ui.documents
    message, status, docs = tab.upload(str(new), False)
    # Saved under docs/uploads/ and indexed at once: no separate rebuild needed.
    assert "Added lisbon_cable.md to docs/uploads/" in unescape(message), message
    assert (docs_dir / "uploads" / "lisbon_cable.md").is_file()
    assert "up to date" in status and "uploads/lisbon_cable.md" in docs
    message, _, _ = tab.upload(str(new), False)
    assert "already exists" in unescape(message)
    answer, panel = final(ui, "What is the Lisbon cable project code-named?")
    assert "Blue Heron" in answer and "cite-card" in panel

    assert ("Cable — uploads/lisbon_cable.md", "uploads/lisbon_cable.md") in tab.document_choices()
    question = tab.removal_question("uploads/lisbon_cable.md")
    assert question is not None and "Cable" in question and "docs/.removed/" in question
    message, status, docs = tab.remove("uploads/lisbon_cable.md")
    assert "Removed uploads/lisbon_cable.md" in unescape(message), message
    assert "lisbon_cable.md" not in docs and "up to date" in status
    # Moved aside, not deleted, and no longer indexed or answered from.
    assert (docs_dir / ".removed" / "uploads" / "lisbon_cable.md").is_file()
    assert not (docs_dir / "uploads" / "lisbon_cable.md").exists()
    answer, _ = final(ui, "What is the Lisbon cable project code-named?")
    assert "Blue Heron" not in answer


@pytest.mark.parametrize("path", ["", None, "../outside.md", "harbor.md/../harbor.md", "nope.md"])
def test_removing_what_is_not_a_document_says_so(ui: AssistantUI, path: str | None) -> None:
    message, _status, docs = ui.documents.remove(path)
    assert "rag-error" in message and "Traceback" not in message
    assert "harbor.md" in docs  # nothing was removed
    assert ui.documents.removal_question(path) is None


def test_the_documents_table_shows_language_and_footnote_sources(ui: AssistantUI) -> None:
    docs = ui.documents.documents_html()
    assert "English" in docs and "Footnotes (source saved?)" in docs
    # Footnote [1]'s source is saved (docs/sources/1.md), [2]'s is not.
    assert '<span class="fn-chip fn-chip--ok" title="source saved">1</span>' in docs
    assert '<span class="fn-chip" title="source not saved">2</span>' in docs
    assert "sources: 1 of 2 saved" in docs


# -- the app -----------------------------------------------------------------------------------


def test_importing_the_ui_imports_no_gradio() -> None:
    code = "import sys, rag.ui.app; print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_create_app_builds_blocks(ui: AssistantUI, monkeypatch) -> None:
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    app = ui.create_app()
    import gradio as gr

    assert isinstance(app, gr.Blocks)
    options = ui.launch_options()
    assert options["server_name"] == "127.0.0.1" and options["server_port"] == 7999
    assert "cite-marker" in options["css"] and "<script>" in options["head"]
    assert "googleapis" not in str(options["theme"].to_dict())


def test_the_header_names_what_is_loaded(ui: AssistantUI) -> None:
    assert "<h1>Harbor Report</h1>" in ui.header_html()  # one document (and one source)
    two = [
        SimpleNamespace(title="A", source_label=None),
        SimpleNamespace(title="B", source_label=None),
        SimpleNamespace(title="S", source_label="1"),
    ]
    assert "<h1>2 documents</h1>" in ui.header_html(two)  # type: ignore[arg-type]
    assert "<h1>Document QA</h1>" in ui.header_html([])
    evil = [SimpleNamespace(title="<script>x()</script>", source_label=None)]
    assert "<script>" not in ui.header_html(evil)  # type: ignore[arg-type]


def test_gradio_footer_links_are_hidden(ui: AssistantUI) -> None:
    assert ui.launch_options()["footer_links"] == []  # our own Settings accordion is enough


def test_fetch_offline_says_so_and_names_the_manual_route(
    ui: AssistantUI, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = [
        FetchReport("1", "https://example.com/velna", "kept", "saved by hand; not replaced"),
        FetchReport("2", "https://coast.example.org/t", "failed", "could not resolve coast.x"),
    ]
    monkeypatch.setattr(ui.assistant, "fetch_sources", lambda: reports)
    message, _status = ui.documents.fetch()
    text = unescape(message)
    assert "0 of 2 sources fetched" in text and "looks offline" in text
    assert "docs/sources/2.md" in text and "rag-error" in message
    message, _status = ui.documents.fetch("ru")
    assert "не подключён к интернету" in unescape(message)
    reports[1] = FetchReport("2", "https://coast.example.org/t", "failed", "HTTP 404")
    message, _status = ui.documents.fetch()
    assert "offline" not in message  # the site answered: not an offline machine


def test_ask_api_returns_the_answer_or_an_error(shared_index: Callable[..., rag.Settings]) -> None:
    ui = AssistantUI(rag.Assistant(shared_index()))
    answer = ui.ask_api("Кто такой Рашад Набиев?")
    assert answer["citations"] and "[1]" in answer["text"]
    assert "empty" in ui.ask_api("  ")["error"]
