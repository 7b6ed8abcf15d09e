"""The Gradio UI: chat with clickable citations, a sources panel, and index management.

``AssistantUI(assistant).create_app()`` returns the ``gr.Blocks`` (tests build it in-process);
``launch()`` serves it on 127.0.0.1 unless ``GRADIO_SERVER_NAME`` says otherwise. Gradio is
imported only inside those methods, so importing this module has no side effects.
"""

from __future__ import annotations

import html
import itertools
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rag.blas import one_blas_thread_for_the_process
from rag.corpus.text import detect_language
from rag.corpus.uploads import (
    MAX_UPLOAD_BYTES,
)
from rag.errors import RagError
from rag.models import Answer, Citation, Footnote, Passage
from rag.ui.cards import CardView, FootnoteView, card_view, group_citations
from rag.ui.documents import PRIVATE, DocumentsTab
from rag.ui.labels import labels_for, language_note
from rag.ui.render import (
    SourcesEntry,
    escape_text,
    page_css,
    page_head,
    render_answer,
    render_message,
    render_settings,
    render_sources_panel,
)

if TYPE_CHECKING:
    import gradio as gr

    from rag.assistant import Assistant, DocumentInfo

__all__ = ["AssistantUI"]

log = logging.getLogger(__name__)

MAX_ANSWERS_KEPT = 10  # answers whose sources stay (folded) in the panel
CHAT_CONCURRENCY = 4  # questions answered at once; the embedder is CPU-bound
SOURCE_PASSAGE_CHARS = 700
NEARBY_PASSAGES = 3  # shown, unquoted, when the answer abstains
HEADER = (
    '<div class="rag-header"><h1>{name}</h1><p>Ask about {about} in Russian, English or '
    "Turkish. Every claim links to the passage and the footnoted source behind it.</p></div>"
)
Message = dict[str, str]

DEFAULT_EXAMPLES = (
    "Как Песков охарактеризовал разговор?",
    "Когда состоялся телефонный разговор Путина и Алиева?",
    "What did the Kremlin press service say both sides confirmed?",
    "What freight volume does Azerbaijan target by 2028?",
    "Peskov görüşmeyi nasıl nitelendirdi?",
    "AB'nin Rus gazı stratejisi nedir?",
)


def _offline_env() -> None:
    # Set before gradio is imported: gradio reads them at import and at Blocks creation.
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _bot(text: str, kind: str) -> Message:
    return {"role": "assistant", "content": render_message(text, kind)}


class AssistantUI:
    """The web UI around one shared, thread-safe :class:`rag.Assistant`."""

    def __init__(self, assistant: Assistant, *, examples: Sequence[str] = DEFAULT_EXAMPLES) -> None:
        self.assistant = assistant
        self.examples = list(examples)
        self.documents = DocumentsTab(assistant)
        self._ids = itertools.count(1)

    # -- answers -------------------------------------------------------------------------

    def answer(
        self,
        question: str,
        history: list[Message],
        entries: list[SourcesEntry],
        k: float,
        mode: str,
    ) -> Iterator[tuple[list[Message], str, list[SourcesEntry]]]:
        """Stream one question's answer: yields (chat messages, sources panel, entries).

        The conversation is kept by the caller (a ``gr.State``), not read back from the
        Chatbot, so what is shown is exactly what was rendered here.
        """
        # Lone surrogates (broken copy-paste) cannot be sent to the browser as JSON.
        shown = question.encode("utf-8", "replace").decode("utf-8")
        language = detect_language(shown)  # the panel and the notes speak the question's
        history = [*history, {"role": "user", "content": escape_text(shown)}]
        pending = _bot(labels_for(language)["searching"], "pending")
        panel = render_sources_panel(entries, pending=shown, language=language)
        yield [*history, pending], panel, entries
        received: list[str] = []
        final: Answer | None = None
        try:
            for item in self.assistant.stream(question, k=int(k), mode=mode):
                if isinstance(item, Answer):
                    final = item
                elif mode == "llm":  # extractive answers arrive whole: no partial updates
                    received.append(item)
                    part = _bot("".join(received), "streaming")
                    yield [*history, part], panel, entries
            assert final is not None
            nearby = self._nearby(question) if final.abstained else []
            cards = self.citation_views(final)
            answer_id = f"a{next(self._ids)}"
            entry = SourcesEntry(answer_id, shown, final, cards, nearby, language)
        except Exception as err:  # the UI's boundary: a message in the chat, never a traceback
            if not isinstance(err, RagError):
                log.exception("answering %r failed", question)
            # A RagError says what to do (shorten the question, wait for the rebuild...).
            text = str(err) if isinstance(err, RagError) else labels_for(language)["went_wrong"]
            panel = render_sources_panel(entries, language=language)
            yield [*history, _bot(text, "error")], panel, entries
            return
        entries = [*entries, entry][-MAX_ANSWERS_KEPT:]
        notes = [note] if (note := self.language_note(language, final, mode)) else []
        message = {"role": "assistant", "content": render_answer(final, answer_id, language, notes)}
        yield [*history, message], render_sources_panel(entries, language=language), entries

    def language_note(self, language: str, answer: Answer, mode: str) -> str | None:
        """A line for an answer that quotes documents in another language than the question's
        (extractive answers quote verbatim), pointing to the LLM that writes in it."""
        if answer.abstained or not answer.citations or answer.mode != "extractive":
            return None
        if mode == "llm":  # the LLM was asked for and failed: the answer's own note says so
            return None
        llm = self.assistant.settings.llm != "none"
        return language_note(language, detect_language(answer.text), llm_configured=llm)

    def _nearby(self, question: str) -> list[Passage]:
        """The passages closest to a question the documents do not answer."""
        try:
            return self.assistant.retrieve(question, k=NEARBY_PASSAGES)
        except RagError:
            return []

    def citation_views(self, answer: Answer) -> list[CardView]:
        """The sources panel's cards for ``answer``: one per cited paragraph.

        A cited passage of a footnote's source is shown in that footnote's card (under the
        claim it backs) rather than in a card of its own.
        """
        texts: dict[str, str] = {}
        for c in answer.citations:
            text = self.assistant.document_text(c.doc_id)
            if text is not None and text[c.start : c.end] == c.text:
                texts[c.doc_id] = text
        # A document that changed since the answer (a rebuild): its cards quote the citation.
        for c in answer.citations:
            if c.doc_id in texts and texts[c.doc_id][c.start : c.end] != c.text:
                del texts[c.doc_id]
        groups = group_citations(answer.citations, texts)
        notes = [self._footnote_views(group, answer) for group in groups]
        shown: set[int] = set()
        for views in notes:  # a cited source passage is its marker's target once only
            for i, f in enumerate(views):
                if f.cited_as is not None:
                    views[i] = replace(f, target=f.cited_as not in shown)
                    shown.add(f.cited_as)
        return [
            card_view(group, texts.get(group[0].doc_id), views)
            for group, views in zip(groups, notes, strict=True)
            if not all(c.marker in shown for c in group)
        ]

    def _footnote_views(self, group: Sequence[Citation], answer: Answer) -> list[FootnoteView]:
        """The footnotes of a card's citations (each once), with their sources' passages."""
        views: dict[str, FootnoteView] = {}
        for c in group:
            for note in c.footnotes:
                if note.label in views:
                    continue
                fetched = bool(
                    note.source_doc_id and self.assistant.document_text(note.source_doc_id)
                )
                source = note.source_doc_id if fetched else None
                views[note.label] = self._footnote_view(note, fetched, source, c, answer)
        return list(views.values())

    def _footnote_view(
        self, note: Footnote, fetched: bool, source_id: str | None, c: Citation, answer: Answer
    ) -> FootnoteView:
        """The footnote with its source's passage behind ``c``: one this answer cites (unless
        ``c`` is in the source itself), else the closest."""
        if source_id is None or c.doc_id == source_id:
            return FootnoteView(note, fetched)
        for other in answer.citations:
            if other.doc_id == source_id:
                return FootnoteView(note, fetched, other.text, cited_as=other.marker)
        try:
            hits = self.assistant.retrieve(c.text[:1000], k=25)
        except RagError:
            return FootnoteView(note, fetched)
        for hit in hits:
            if hit.doc_id == source_id:
                return FootnoteView(note, fetched, hit.text[:SOURCE_PASSAGE_CHARS])
        return FootnoteView(note, fetched)

    def header_html(self, docs: Sequence[DocumentInfo] | None = None) -> str:
        """The page header, naming what is loaded: the article's title, or "N documents"
        (``docs`` defaults to the assistant's documents; none known yet: "Document QA")."""
        if docs is None:
            try:
                docs = self.assistant.documents()
            except RagError:
                docs = []
        main = [d for d in docs if not d.source_label]  # a footnote's source is no document
        if len(main) == 1 and main[0].title:
            name, about = main[0].title, "this document"
        elif main:
            name, about = f"{len(main)} documents", "these documents"
        else:
            name, about = "Document QA", "the documents"
        return HEADER.format(name=html.escape(name), about=about)

    def ask_api(self, question: str) -> dict[str, Any]:
        """One question, the :class:`rag.Answer` as a dict (or ``{"error": message}``)."""
        try:
            return self.assistant.query(question).to_dict()
        except RagError as err:
            return {"error": str(err)}

    # -- the app -----------------------------------------------------------------------------

    def create_app(self) -> gr.Blocks:
        """Build the Blocks (without launching it): an Ask tab and a Documents tab."""
        _offline_env()
        import gradio as gr

        settings = self.assistant.settings
        modes = [("Quote the documents (extractive)", "extractive")]
        if settings.llm != "none":
            modes.append((f"LLM ({settings.llm_model or settings.llm})", "llm"))
        no_llm = "LLM: not configured (set RAG_LLM=openai-like and RAG_LLM_BASE_URL)"
        with gr.Blocks(title="Document QA", analytics_enabled=False) as app:
            history, entries, asked = gr.State([]), gr.State([]), gr.State("")
            language = gr.State("en")  # the last question's: the Documents tab speaks it
            header = gr.HTML(self.header_html([]), elem_id="rag-header")
            with gr.Tabs():
                with gr.Tab("Ask", id="ask"), gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        chat = gr.Chatbot(
                            show_label=False, elem_id="rag-chat", height=520, buttons=[],
                            feedback_options=None, latex_delimiters=[], sanitize_html=True,
                            placeholder="Answers appear here, each claim with its source.",
                        )  # fmt: skip
                        with gr.Row(elem_id="rag-ask-row"):
                            box = gr.Textbox(
                                show_label=False, elem_id="rag-question", max_lines=4, scale=5,
                                placeholder="Your question… / Ваш вопрос… / Sorunuz…",
                                min_width=180, autofocus=True,
                            )  # fmt: skip
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                        gr.Examples([[q] for q in self.examples], inputs=[box], label="Examples",
                                    elem_id="rag-examples")  # fmt: skip
                        with gr.Accordion("Settings", open=False):
                            mode = gr.Radio(modes, value=modes[-1][1], label="Answer mode",
                                            info=None if len(modes) > 1 else no_llm)  # fmt: skip
                            # top-k is what the LLM reads; the extractive answer always weighs
                            # every sentence of the best passages, so it has no top-k to offer.
                            top_k = gr.Slider(1, 20, value=settings.top_k, step=1,
                                              label="Passages the LLM reads (top-k)",
                                              visible=modes[-1][1] == "llm")  # fmt: skip
                            mode.change(lambda m: gr.update(visible=m == "llm"), mode, top_k,
                                        **PRIVATE)  # fmt: skip
                            gr.HTML(render_settings(settings))
                    with gr.Column(scale=2, min_width=300):
                        sources = gr.HTML(render_sources_panel([]), elem_id="rag-sources")
                with gr.Tab("Documents", id="documents") as docs_tab:
                    self.documents.build(app, docs_tab, language)

            def chat_step(question: str, *args: Any) -> Iterator[tuple[Any, ...]]:
                spoken = detect_language(question)
                for shown, panel, kept in self.answer(question, *args):
                    yield shown, panel, kept, shown, spoken

            chat_out = [chat, sources, entries, history, language]
            # Take the question and clear the box at once, then answer (queued, streamed).
            gr.on([box.submit, send.click], lambda q: ("", q), [box], [box, asked], queue=False,
                  **PRIVATE).then(chat_step, [asked, history, entries, top_k, mode], chat_out,
                                  **PRIVATE)  # fmt: skip
            # The Chatbot's own trash button: forget the conversation and its sources too.
            chat.clear(lambda lang: ([], render_sources_panel([], language=lang), [], [], lang),
                       [language], chat_out, **PRIVATE)  # fmt: skip
            app.load(self.header_html, None, [header], **PRIVATE)  # names what is loaded
            # For programs (gradio_client's predict(q, api_name="/ask")): the Answer as JSON.
            gr.api(self.ask_api, api_name="ask")
        return app

    def launch_options(self) -> dict[str, Any]:
        """The keyword arguments ``launch`` passes to ``gr.Blocks.launch``."""
        _offline_env()
        import gradio as gr

        # System fonts only: Cyrillic-complete on every OS, and nothing fetched from outside.
        fonts = ["system-ui", "Segoe UI", "Roboto", "Noto Sans", "DejaVu Sans", "sans-serif"]
        mono = ["ui-monospace", "SFMono-Regular", "Menlo", "DejaVu Sans Mono", "monospace"]
        return {
            "server_name": os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
            "server_port": int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
            "theme": gr.themes.Soft(primary_hue="blue", font=fonts, font_mono=mono),
            "css": page_css(),
            "head": page_head(),
            "footer_links": [],  # Gradio's "Settings" would sit beside our own accordion
            "ssr_mode": False,
            "run_history": False,
            "share": False,
            "max_file_size": MAX_UPLOAD_BYTES,
            "show_error": False,
        }

    def warm_up(self) -> None:
        """Load the index and the embedder (building the index if needed) before a question."""
        try:
            self.assistant.retrieve("warm up", k=1)
        except RagError as err:
            log.warning("could not prepare the index: %s", err)

    def launch(self, **kwargs: Any) -> Any:
        """Serve the app (queue on, one shared Assistant); ``kwargs`` override launch options."""
        one_blas_thread_for_the_process()  # before any worker thread asks (rag.blas)
        app = self.create_app()
        app.queue(default_concurrency_limit=CHAT_CONCURRENCY, max_size=64)
        # The page is served at once; the index and the model load meanwhile.
        threading.Thread(target=self.warm_up, name="rag-warm-up", daemon=True).start()
        return app.launch(**{**self.launch_options(), **kwargs})
