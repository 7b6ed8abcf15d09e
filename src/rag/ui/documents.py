"""The Documents tab: the index's state, the documents (each removable after a confirm),
uploads into docs/uploads/, rebuild and fetch; in the language of the session's last question.

Built only from :class:`rag.Assistant`'s public methods. Gradio is imported only inside
:meth:`DocumentsTab.build`, so importing this module has no side effects.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.corpus.uploads import UPLOAD_SUFFIXES, DocumentNotFoundError, UploadRefusedError
from rag.errors import RagError
from rag.ui.labels import labels_for
from rag.ui.render import (
    render_documents,
    render_fetch_reports,
    render_index_status,
    render_message,
)

if TYPE_CHECKING:
    import gradio as gr

    from rag.assistant import Assistant
    from rag.corpus.sources import FetchReport

__all__ = ["DocumentsTab"]

PRIVATE: dict[str, Any] = {"api_visibility": "private"}  # events that are not a public API
# Index changes (upload, remove, rebuild, fetch) run one at a time, across all sessions.
ONE_AT_A_TIME: dict[str, Any] = {**PRIVATE, "concurrency_id": "index", "concurrency_limit": 1}


def _reporter(progress: Callable[..., Any] | None) -> Callable[[str, int, int], None]:
    """A build's progress callback that drives Gradio's progress bar (if there is one)."""

    def report(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress((done, total), desc=f"{stage}: {done}/{total}")

    return report


class DocumentsTab:
    """The Documents tab around one shared :class:`rag.Assistant`."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def index_status_html(self, language: str = "en") -> str:
        """The index status block of the Documents tab."""
        status = self.assistant.status()
        return render_index_status(status, self.assistant.settings, language)

    def documents_html(self, language: str = "en") -> str:
        """The documents table (builds the index first if it is missing or stale)."""
        try:
            return render_documents(self.assistant.documents(), language)
        except RagError as err:
            return render_message(str(err), "error")

    def document_choices(self) -> list[tuple[str, str]]:
        """(label, path) of each document, for the "remove a document" list."""
        try:
            docs = self.assistant.documents()
        except RagError:
            return []
        return [(f"{d.title} — {d.path}" if d.title else d.path, d.path) for d in docs]

    def upload(
        self,
        file_path: str | None,
        overwrite: bool,
        language: str = "en",
        progress: Callable[..., Any] | None = None,
    ) -> tuple[str, str, str]:
        """Save an uploaded file into docs/uploads/ and index it (only it is embedded):
        returns (message, index status, documents)."""
        try:
            if not file_path:
                raise UploadRefusedError("choose a .txt, .md or .html file first")
            target = self.assistant.add_document(Path(file_path), overwrite=overwrite)
            stats = self.assistant.build_index(progress=_reporter(progress))
            text = labels_for(language)["added"].format(name=target.name, summary=stats.summary())
            message = render_message(text, "notice")
        except RagError as err:
            message = render_message(str(err), "error")
        return message, self.index_status_html(language), self.documents_html(language)

    def removal_question(self, path: str | None, language: str = "en") -> str | None:
        """What to ask before removing the document ``path`` (``None``: no such document)."""
        try:
            docs = {d.path: d for d in self.assistant.documents()}
        except RagError:
            return None
        doc = docs.get(path or "")
        if doc is None:
            return None
        return labels_for(language)["confirm_remove"].format(title=doc.title, path=doc.path)

    def remove(
        self, path: str | None, language: str = "en", progress: Callable[..., Any] | None = None
    ) -> tuple[str, str, str]:
        """Remove a document (moved to docs/.removed/), then rebuild incrementally: returns
        (message, index status, documents)."""
        labels = labels_for(language)
        try:
            if not path:
                raise DocumentNotFoundError(labels["choose_document"])
            kept = self.assistant.remove_document(path)
            stats = self.assistant.build_index(progress=_reporter(progress))
            docs_dir = self.assistant.settings.docs_dir
            where = f"{docs_dir.name}/{kept.relative_to(docs_dir).as_posix()}"
            text = labels["removed"].format(path=path, kept=where, summary=stats.summary())
            message = render_message(text, "notice")
        except RagError as err:
            message = render_message(str(err), "error")
        return message, self.index_status_html(language), self.documents_html(language)

    def rebuild(
        self, progress: Callable[..., Any] | None = None, language: str = "en"
    ) -> tuple[str, str, str]:
        """Rebuild the index with a progress bar: returns (message, status, documents)."""
        try:
            stats = self.assistant.build_index(force=True, progress=_reporter(progress))
            message = render_message(stats.summary(), "notice")
        except RagError as err:
            message = render_message(str(err), "error")
        return message, self.index_status_html(language), self.documents_html(language)

    def fetch(self, language: str = "en") -> tuple[str, str]:
        """Fetch each footnote's source: returns (per-source report, index status)."""
        try:
            reports = self.assistant.fetch_sources()
        except RagError as err:
            return render_message(str(err), "error"), self.index_status_html(language)
        return self._fetch_message(reports, language), self.index_status_html(language)

    def _fetch_message(self, reports: list[FetchReport], language: str) -> str:
        """How many sources were fetched (and why none, when offline), then the table."""
        from rag.corpus.sources import (  # fetching code: only now
            attempted,
            looks_offline,
            nothing_fetched,
        )

        labels = labels_for(language)
        if not reports:
            return render_fetch_reports(reports, language)
        fetched = sum(r.status == "fetched" for r in reports)
        lines = [labels["fetch_count"].format(fetched=fetched, total=len(reports))]
        if looks_offline(reports):
            label = attempted(reports)[0].label  # a source to save by hand
            where = f"{self.assistant.settings.docs_dir.name}/sources"
            lines.append(labels["offline"].format(dir=where, label=label))
        kind = "error" if nothing_fetched(reports) else "notice"
        return render_message("\n".join(lines), kind) + render_fetch_reports(reports, language)

    def build(self, app: gr.Blocks, tab: gr.Tab, language: gr.State) -> None:
        """The Documents tab's contents and events: the index status, the documents (each
        removable, after a confirm), uploads, rebuild and fetch; in the session's language."""
        import gradio as gr

        private, one_at_a_time = PRIVATE, ONE_AT_A_TIME
        words = labels_for("en")
        status = gr.HTML(elem_id="rag-index-status")
        docs_table = gr.HTML(elem_id="rag-documents")
        with gr.Row(equal_height=True):
            choice = gr.Dropdown([], value=None, label=words["remove_label"], scale=4,
                                 elem_id="rag-remove-choice", min_width=220)  # fmt: skip
            remove = gr.Button(words["remove"], scale=1, min_width=120, elem_id="rag-remove")
        with gr.Group(visible=False, elem_id="rag-remove-confirm") as confirm:
            question = gr.HTML(elem_id="rag-remove-question")
            with gr.Row():
                yes = gr.Button(words["yes_remove"], variant="stop", elem_id="rag-remove-yes")
                no = gr.Button(words["cancel"], elem_id="rag-remove-no")
        remove_msg = gr.HTML(elem_id="rag-remove-msg")
        with gr.Row():
            with gr.Column(min_width=280):
                upload = gr.File(label=words["upload_label"], file_types=list(UPLOAD_SUFFIXES),
                                 elem_id="rag-upload")  # fmt: skip
                overwrite = gr.Checkbox(label=words["overwrite"])
                add = gr.Button(words["add"], elem_id="rag-add")
                upload_msg = gr.HTML(elem_id="rag-upload-msg")
            with gr.Column(min_width=280):
                rebuild = gr.Button(words["rebuild"], variant="primary", elem_id="rag-rebuild")
                rebuild_msg = gr.HTML(elem_id="rag-rebuild-msg")
                fetch = gr.Button(words["fetch"], elem_id="rag-fetch")
                fetch_msg = gr.HTML(elem_id="rag-fetch-msg")

        def choices() -> Any:
            return gr.Dropdown(choices=self.document_choices(), value=None)

        def refresh(lang: str) -> tuple[Any, ...]:
            words = labels_for(lang)
            return (
                self.index_status_html(lang), self.documents_html(lang), choices(),
                gr.Dropdown(label=words["remove_label"]), gr.Button(words["remove"]),
                gr.Button(words["yes_remove"]), gr.Button(words["cancel"]),
                gr.File(label=words["upload_label"]), gr.Checkbox(label=words["overwrite"]),
                gr.Button(words["add"]), gr.Button(words["rebuild"]), gr.Button(words["fetch"]),
            )  # fmt: skip

        def confirm_removal(path: str | None, lang: str) -> tuple[Any, str, str]:
            text = self.removal_question(path, lang)
            if text is None:
                error = render_message(labels_for(lang)["choose_document"], "error")
                return gr.Group(visible=False), "", error
            return gr.Group(visible=True), render_message(text, "notice"), ""

        def removed(
            path: str | None,
            lang: str,
            progress: Any = gr.Progress(),  # noqa: B008
        ) -> tuple[Any, ...]:
            return (gr.Group(visible=False), *self.remove(path, lang, progress), choices())

        def added(
            path: str | None,
            again: bool,
            lang: str,
            progress: Any = gr.Progress(),  # noqa: B008
        ) -> tuple[Any, ...]:
            return (*self.upload(path, again, lang, progress), choices())

        def rebuilt(lang: str, progress: Any = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
            return (*self.rebuild(progress, lang), choices())

        shown = [status, docs_table, choice, choice, remove, yes, no, upload, overwrite, add,
                 rebuild, fetch]  # fmt: skip
        tab.select(refresh, [language], shown, **private)
        app.load(refresh, [language], shown, **private)
        remove.click(
            confirm_removal, [choice, language], [confirm, question, remove_msg], **private
        )
        no.click(lambda: gr.Group(visible=False), None, [confirm], **private)
        yes.click(removed, [choice, language], [confirm, remove_msg, status, docs_table, choice],
                  **one_at_a_time)  # fmt: skip
        add.click(added, [upload, overwrite, language], [upload_msg, status, docs_table, choice],
                  **one_at_a_time)  # fmt: skip
        rebuild.click(rebuilt, [language], [rebuild_msg, status, docs_table, choice],
                      **one_at_a_time)  # fmt: skip
        fetch.click(self.fetch, [language], [fetch_msg, status], **one_at_a_time)
