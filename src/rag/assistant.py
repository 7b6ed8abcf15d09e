"""The engine behind every way in (UI, Python, CLI): one :class:`Assistant` per corpus.

An Assistant is thread-safe: queries read an immutable loaded index; a rebuild loads the new
one beside it and swaps the reference, so questions asked during a rebuild are answered from
the previous index.
"""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.answer.answerer import Answerer, QuotingAnswerer, Search, make_answerer
from rag.answer.extractive import passage_of
from rag.blas import one_blas_thread
from rag.corpus.documents import candidate_files
from rag.corpus.text import detect_language
from rag.errors import DocumentError, IndexBusyError, IndexError_, InvalidQuestionError
from rag.index.build import IndexStatus, build_index, index_status, load_current
from rag.index.embeddings import Embedder, make_embedder, word_embedder
from rag.index.store import IndexStore
from rag.models import Answer, Footnote, IndexStats, Passage
from rag.profile import Profile, load_profile
from rag.query import parse_query
from rag.retrieval import hybrid_search
from rag.settings import Settings

if TYPE_CHECKING:
    from pathlib import Path

    from llama_index.core.llms import LLM

    from rag.corpus.sources import FetchReport

__all__ = ["Assistant", "DocumentInfo", "clean_question"]

log = logging.getLogger(__name__)

# How often (seconds) a query looks at docs/ for changes; looking costs a directory walk.
FRESHNESS_INTERVAL = 2.0
LANGUAGE_SAMPLE = 3000  # characters of a document its language is guessed from
MIN_ANSWER_PASSAGES = 8


@dataclass(frozen=True)
class DocumentInfo:
    """A document as the index holds it (for listings)."""

    doc_id: str
    title: str
    path: str
    passages: int
    footnotes: int
    source_label: str | None
    language: str = ""  # "ru", "en" or "tr": a guess from the start of its text
    # (label, whether the footnote's source text is among the documents), in footnote order
    sources: tuple[tuple[str, bool], ...] = ()


def clean_question(question: object, max_chars: int) -> str:
    """The question as text we can search for, or an ``InvalidQuestionError`` saying why not."""
    if not isinstance(question, str):
        raise InvalidQuestionError(
            f"a question must be text, not {type(question).__name__}: pass a string"
        )
    # Drop lone surrogates and control characters (they come from broken copy-paste). The
    # categories are looked up once per distinct character, so a megabyte of them is cheap.
    text = question.encode("utf-8", "ignore").decode("utf-8")
    controls = {ord(ch): " " for ch in set(text) if unicodedata.category(ch)[0] == "C"}
    text = text.translate(controls)
    text = " ".join(text.split())
    if not text:
        raise InvalidQuestionError("the question is empty: type a question about the documents")
    if len(text) > max_chars:
        raise InvalidQuestionError(
            f"the question is {len(text)} characters long; the limit is {max_chars}: shorten it"
        )
    if not any(ch.isalnum() for ch in text):
        raise InvalidQuestionError("the question has no words to search for: ask in words")
    return text


class Assistant:
    """Answers questions about the documents in ``settings.docs_dir``."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        llm: LLM | None = None,
        profile: Profile | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._embedder = embedder
        self._profile = profile
        self._llm = llm
        self._answerer: Answerer | None = None
        self._store: IndexStore | None = None
        self._lock = threading.RLock()
        self._checked_at = 0.0
        self._signature: tuple[tuple[str, int, int], ...] | None = None

    # -- collaborators, created on first use ---------------------------------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    self._embedder = make_embedder(
                        self.settings.embed_model, threads=self.settings.embed_threads
                    )
        return self._embedder

    @property
    def profile(self) -> Profile:
        """The calibration profile (rag.profile): the settings' file, or the embedder's."""
        if self._profile is None:
            with self._lock:
                if self._profile is None:
                    self._profile = load_profile(self.settings.embed_model, self.settings.profile)
        return self._profile

    def answerer(self, mode: str | None = None) -> Answerer:
        """How questions are answered (rag.answer.answerer), chosen once from the settings: quoting,
        or the LLM with quoting as its fallback; ``mode="extractive"`` asks for quoting."""
        if mode not in (None, "llm"):
            return QuotingAnswerer(self.profile)
        if self._answerer is None:
            with self._lock:
                if self._answerer is None:
                    quoting, embed = QuotingAnswerer(self.profile), self.embedder.encode
                    self._answerer = make_answerer(self.settings, quoting, embed, self._llm)
        return self._answerer

    # -- the index ------------------------------------------------------------------------

    def status(self) -> IndexStatus:
        """Whether the persisted index matches the documents and settings."""
        return index_status(self.settings, self.embedder.dim)

    def build_index(
        self,
        *,
        force: bool = False,
        progress: Callable[[str, int, int], None] | None = None,
        lock_timeout: float = 600.0,
    ) -> IndexStats:
        """Build (or confirm) the index, then serve queries from it.

        Waits up to ``lock_timeout`` seconds for a rebuild already running, then raises
        ``IndexBusyError``. A missing documents folder raises ``DocumentError`` before
        anything is written (a typo in the path leaves no index folder behind).
        """
        docs_dir = self.settings.docs_dir
        if not docs_dir.is_dir():
            raise DocumentError(
                f"documents folder {docs_dir} does not exist: create it and add files"
            )
        stats = build_index(
            self.settings, self.embedder, force=force, progress=progress, lock_timeout=lock_timeout
        )
        store = load_current(self.settings)
        with self._lock:
            self._store = store
            self._checked_at = time.monotonic()
            self._signature = self._docs_signature()
        return stats

    def _docs_signature(self) -> tuple[tuple[str, int, int], ...]:
        out = []
        for path in candidate_files(self.settings.docs_dir):
            try:
                st = path.stat()
            except OSError:
                continue
            out.append((str(path), st.st_size, st.st_mtime_ns))
        return tuple(out)

    def store(self) -> IndexStore:
        """The loaded index, built or rebuilt first if it is missing or stale.

        While a rebuild runs (here or in another process), questions are answered from the
        index already loaded; only the very first load waits for a build.
        """
        store = self._store
        if store is not None and time.monotonic() - self._checked_at < FRESHNESS_INTERVAL:
            return store
        with self._lock:
            current = self._store
            if current is not None and time.monotonic() - self._checked_at < FRESHNESS_INTERVAL:
                return current
            self._checked_at = time.monotonic()  # other threads keep the current index meanwhile
            signature = self._docs_signature()
            if current is not None and signature == self._signature:
                return current
            status = self.status()
            if status.state == "ok" and current is None:
                try:
                    self._store = load_current(self.settings)
                except IndexError_ as err:
                    log.warning("%s; rebuilding", err)
                    self.build_index(force=True)
            elif status.state != "ok" and current is None:
                log.info("index %s (%s): building it now", status.state, status.reason)
                self.build_index()
            if status.state == "ok" or current is None:
                self._signature = signature
                assert self._store is not None
                return self._store
        # Stale with an index loaded: rebuild without holding up other questions.
        log.info("index stale (%s): rebuilding it now", status.reason)
        try:
            self.build_index(lock_timeout=0)
        except IndexBusyError:
            log.info("a rebuild is already running; answering from the current index")
        return self._store or current

    def document_text(self, doc_id: str) -> str | None:
        """The indexed text of document ``doc_id`` (None if the index holds no such one):
        what citations' offsets point into."""
        doc = self.store().docs.get(doc_id)
        return None if doc is None else doc.text

    def documents(self) -> list[DocumentInfo]:
        """The indexed documents with their passage and footnote counts."""
        store = self.store()
        counts: dict[str, int] = {}
        for record in store.passages:
            counts[record.doc_id] = counts.get(record.doc_id, 0) + 1
        return [
            DocumentInfo(
                doc_id=doc.doc_id,
                title=doc.title,
                path=doc.path,
                passages=counts.get(doc.doc_id, 0),
                footnotes=0 if doc.source_label else len(doc.footnotes),
                source_label=doc.source_label,
                language=detect_language(doc.text[:LANGUAGE_SAMPLE]),
                sources=()
                if doc.source_label
                else tuple(
                    (note.label, bool(note.source_doc_id and note.source_doc_id in store.docs))
                    for note in doc.footnotes
                ),
            )
            for doc in store.docs.values()
        ]

    def add_document(self, path: Path, *, overwrite: bool = False) -> Path:
        """Copy the file at ``path`` into ``docs/uploads/`` (checked: see rag.corpus.uploads) and
        return where it went; the next ``build_index`` (or question) indexes it."""
        from rag.corpus.uploads import UPLOADS_DIR, save_upload

        return save_upload(path, self.settings.docs_dir / UPLOADS_DIR, overwrite=overwrite)

    def remove_document(self, path: str) -> Path:
        """Take the document ``path`` (as :meth:`documents` lists it) out of the corpus: it is
        moved into ``docs/.removed/``, not deleted, and the next ``build_index`` (or question)
        drops it. Returns where it went."""
        from rag.corpus.uploads import remove_document_file

        docs_dir = self.settings.docs_dir
        listed = {p.relative_to(docs_dir).as_posix() for p in candidate_files(docs_dir)}
        return remove_document_file(docs_dir, path, listed)

    def footnotes(self) -> list[Footnote]:
        """Every footnote of every (non-source) document, as the index knows it."""
        store = self.store()
        return [
            note
            for doc in store.docs.values()
            if doc.source_label is None
            for note in doc.footnotes
        ]

    def fetch_sources(self) -> list[FetchReport]:
        """Download the source behind each footnote into ``docs/sources/`` (see rag.corpus.sources).

        Reads the footnotes from the documents as they are now, so it works before any index
        exists. The next query (or ``build_index``) indexes what was fetched.
        """
        from rag.corpus.documents import load_documents
        from rag.corpus.sources import fetch_sources

        docs, _ = load_documents(self.settings.docs_dir)
        notes = {n.label: n for d in docs if not d.is_source for n in d.footnotes}
        return fetch_sources(notes.values(), self.settings.docs_dir / "sources", self.settings)

    # -- questions ------------------------------------------------------------------------

    def _search(self, question: object, k: int | None, depth: int = 0) -> Search:
        """The best ``k`` passages (default ``settings.top_k``) for ``question``, or at least
        the best ``depth`` (the extractive answer weighs more than the LLM reads)."""
        text = clean_question(question, self.settings.max_question_chars)
        if k is None:
            k = self.settings.top_k
        elif isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 100:
            raise InvalidQuestionError(f"k must be a whole number from 1 to 100, not {k!r}")
        store = self.store()
        embedder, words = self.embedder, word_embedder(self.embedder)
        embed_words = None if words is embedder else words.encode
        query = parse_query(text, embedder.encode, store.lexicon, embed_words)
        return Search(store, query, hybrid_search(store, query, max(k, depth)), k)

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The ``k`` passages that best match ``question``, best first."""
        with one_blas_thread():
            found = self._search(question, k)
        return [passage_of(found.store, hit.row, hit.score) for hit in found.hits]

    def query(self, question: str, *, k: int | None = None, mode: str | None = None) -> Answer:
        """Answer ``question`` with verified citations (see :class:`rag.Answer`). ``k``: the
        passages the LLM reads (default ``settings.top_k``); the extractive answer weighs
        every sentence of at least the best MIN_ANSWER_PASSAGES whatever ``k``.
        ``mode="extractive"`` quotes even when an LLM is configured."""
        with one_blas_thread():
            found = self._search(question, k, MIN_ANSWER_PASSAGES)
            return self.answerer(mode).answer(found)

    def stream(
        self, question: str, *, k: int | None = None, mode: str | None = None
    ) -> Iterator[str | Answer]:
        """Yield the answer's text as it comes, then the final, verified :class:`Answer`."""
        with one_blas_thread():
            found = self._search(question, k, MIN_ANSWER_PASSAGES)
            yield from self.answerer(mode).stream(found)
