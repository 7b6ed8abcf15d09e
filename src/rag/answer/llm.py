"""The optional LLM answerer (any OpenAI-compatible server): numbered passages in, a verified,
cited :class:`Answer` out. Every LLM failure, a reply that fails verification included, becomes
an :class:`LLMError` within ``settings.llm_timeout``, so the caller falls back to the
extractive answer (:func:`answer_or_fallback`)."""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from rag.answer.llm_prompt import build_prompt, fit_passages, prompt_lines, render_prompt
from rag.answer.llm_reply import STOP_SEQUENCES, clean_reply, visible_deltas
from rag.answer.verification import Embed, verify_answer
from rag.corpus.text import detect_language
from rag.errors import ConfigError, LLMError
from rag.models import Answer, Passage, not_covered_message
from rag.settings import Settings

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

__all__ = [
    "LLMAnswerer",
    "answer_or_fallback",
    "build_prompt",
    "fit_passages",
    "llm_abstained_note",
    "llm_failure_note",
]

log = logging.getLogger(__name__)


def llm_failure_note(err: LLMError, language: str = "en", *, quoted: bool = True) -> str:
    """The note shown with the extractive answer that replaced a failed LLM answer
    (``quoted=False``: the extractive answerer found nothing to quote either)."""
    notes = {
        "ru": "LLM не ответила ({err}); показан ответ, извлечённый из документов.",
        "tr": "LLM yanıt veremedi ({err}); belgelerden alıntılanan yanıt gösteriliyor.",
        "en": "The LLM could not answer ({err}); showing an answer quoted from the documents.",
    }
    if not quoted:
        notes = {
            "ru": "LLM не ответила ({err}); в документах не нашлось предложения, отвечающего "
            "на вопрос.",
            "tr": "LLM yanıt veremedi ({err}); belgelerde soruyu yanıtlayan bir cümle bulunamadı.",
            "en": "The LLM could not answer ({err}); no sentence of the documents answers it "
            "either.",
        }
    return notes.get(language, notes["en"]).format(err=err)


def llm_abstained_note(language: str = "en") -> str:
    """The note shown when the LLM found no answer but the documents' sentences do answer."""
    notes = {
        "ru": "LLM не нашла ответа в отрывках; показаны предложения документов, которые "
        "отвечают на вопрос.",
        "tr": "LLM pasajlarda yanıt bulamadı; belgelerin soruyu yanıtlayan cümleleri gösteriliyor.",
        "en": "The LLM found no answer in the passages; showing the documents' sentences that "
        "answer the question.",
    }
    return notes.get(language, notes["en"])


def answer_or_fallback(
    llm_items: Iterable[str | Answer], quote: Callable[[], Answer], language: str
) -> Iterator[str | Answer]:
    """Pass the LLM's stream on, but end it with the extractive answer (``quote``) and a note
    when the LLM fails, when its reply fails verification, or when it abstains although the
    extractive answerer found an answer: a user asking about the documents wants the answer
    they hold, and a quoted sentence above the calibrated threshold is one."""
    try:
        for item in llm_items:
            if isinstance(item, Answer) and item.abstained:
                quoted = quote()
                if not quoted.abstained:
                    log.info("the LLM abstained; showing the extractive answer")
                    item = dataclasses.replace(
                        quoted, notes=[*quoted.notes, llm_abstained_note(language)]
                    )
            yield item
    except LLMError as err:
        log.warning("%s; falling back to the extractive answer", err)
        quoted = quote()
        note = llm_failure_note(err, language, quoted=not quoted.abstained)
        yield dataclasses.replace(quoted, notes=[*quoted.notes, note])


class LLMAnswerer:
    """Answers from passages with an OpenAI-compatible LLM, then verifies the citations.

    Nothing is contacted before the first question. ``llm`` replaces the OpenAI-like client
    (tests); ``embed`` (texts -> L2-normalized vectors) lets verification accept claims in
    another language than the passage.
    """

    def __init__(
        self, settings: Settings, *, embed: Embed | None = None, llm: LLM | None = None
    ) -> None:
        if llm is None:
            _require_server(settings)
        self._settings, self._embed, self._llm = settings, embed, llm
        self._lock = threading.Lock()
        url = settings.llm_base_url or getattr(llm, "api_base", None)
        self._who = f"LLM at {url}" if url else "the LLM"  # starts every LLMError message
        self._prompt_tokens = settings.llm_context_tokens - settings.llm_max_tokens

    @property
    def llm(self) -> LLM:
        """The llama-index LLM client, built on first use."""
        with self._lock:
            if self._llm is None:
                from llama_index.llms.openai_like import OpenAILike

                s = self._settings
                self._llm = OpenAILike(
                    model=s.llm_model,
                    api_base=s.llm_base_url,
                    api_key=s.llm_api_key.get_secret_value() or "none",  # local servers need none
                    is_chat_model=True,
                    temperature=0.0,
                    timeout=s.llm_timeout,
                    max_retries=0,  # a retry would double the wait before the fallback
                    max_tokens=s.llm_max_tokens,
                    context_window=s.llm_context_tokens,
                    additional_kwargs={"stop": list(STOP_SEQUENCES)},
                )
            return self._llm

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        """The verified answer; raises :class:`LLMError` if the LLM fails or times out, or
        if no sentence of its reply is supported by the passage it cites."""
        shown = fit_passages(question, passages, max_tokens=self._prompt_tokens)
        if not shown:  # nothing to ground an answer in: don't ask the LLM to invent one
            return _abstention(question)
        messages = render_prompt(question, shown)
        client = self.llm  # built (llama-index imported) before the timeout starts
        raw = "".join(self._guarded(lambda: [client.chat(messages).message.content or ""]))
        return self._verify(raw, prompt_lines(messages), shown, question)

    def stream(self, question: str, passages: Sequence[Passage]) -> Iterator[str | Answer]:
        """Text deltas as the LLM writes them (provisional, unverified markers; never echoed
        delimiters, template tokens or the sentinel), then exactly one final verified
        :class:`Answer`. Raises :class:`LLMError` while iterating."""
        shown = fit_passages(question, passages, max_tokens=self._prompt_tokens)
        if not shown:
            yield _abstention(question)
            return
        messages = render_prompt(question, shown)
        echo = prompt_lines(messages)
        received: list[str] = []
        client = self.llm  # built (llama-index imported) before the timeout starts

        def deltas() -> Iterator[str]:
            for response in client.stream_chat(messages):
                yield response.delta or ""

        yield from visible_deltas(self._guarded(deltas), received, echo)
        yield self._verify("".join(received), echo, shown, question)

    def _verify(
        self, raw: str, echo: frozenset[str], shown: list[Passage], question: str
    ) -> Answer:
        if not raw.strip():
            raise LLMError(f"{self._who} gave an empty reply")
        reply = clean_reply(raw, echo)
        if not reply.strip():
            raise LLMError(
                f"{self._who} gave no answer, only template tokens or an echo of the prompt"
            )
        answer = verify_answer(reply, shown, question, embed=self._embed)
        if answer.abstained and answer.flags:  # it tried to answer, and nothing held up
            reasons = Counter(flag.reason for flag in answer.flags)
            summary = "; ".join(f"{reason}: {n}" for reason, n in reasons.most_common())
            raise LLMError(
                f"{self._who} gave an answer that failed verification, no sentence supported "
                f"by the passage it cites ({summary})"
            )
        return answer

    def _guarded(self, produce: Callable[[], Iterable[str]]) -> Iterator[str]:
        """Run ``produce`` in a worker thread and pass its pieces on, but give up when
        ``llm_timeout`` has passed in all, or ``llm_idle_timeout`` since the last piece once
        text has begun (the first piece waits for the prompt to be read): the client's own
        timeout only bounds each read."""
        overall, idle = self._settings.llm_timeout, self._settings.llm_idle_timeout
        pieces: queue.SimpleQueue[tuple[str, object]] = queue.SimpleQueue()
        abandoned = threading.Event()
        threading.Thread(
            target=_produce_into, args=(produce, pieces, abandoned), name="rag-llm", daemon=True
        ).start()
        deadline = time.monotonic() + overall
        begun = False
        try:
            while True:
                left = deadline - time.monotonic()
                wait = min(idle, left) if begun else left
                try:
                    kind, value = pieces.get(timeout=max(0.0, wait))
                except queue.Empty:
                    if begun and idle < left:
                        hint = "RAG_LLM_IDLE_TIMEOUT"
                        raise LLMError(
                            f"{self._who} stopped sending for {idle:g} s mid-answer ({hint})"
                        ) from None
                    raise LLMError(
                        f"{self._who} timed out after {overall:g} s (RAG_LLM_TIMEOUT)"
                    ) from None
                if kind == "done":
                    return
                if isinstance(value, BaseException):
                    raise LLMError(f"{self._who} {_explain(value, overall)}") from value
                begun = begun or bool(value)
                yield str(value)
        finally:
            abandoned.set()  # the worker stops at its next piece; its client times out anyway


def _produce_into(
    produce: Callable[[], Iterable[str]],
    pieces: queue.SimpleQueue[tuple[str, object]],
    abandoned: threading.Event,
) -> None:
    """The worker: every piece, then "done", or the exception (the caller explains it)."""
    produced: Iterable[str] = ()
    try:
        produced = produce()
        for piece in produced:
            if abandoned.is_set():
                return
            pieces.put(("piece", piece))
        pieces.put(("done", None))
    except Exception as exc:  # handed to the caller's thread, which explains it
        pieces.put(("error", exc))
    finally:
        close = getattr(produced, "close", None)
        if close is not None:
            close()  # a stream given up on: let the client drop the connection


def _require_server(settings: Settings) -> None:
    named = {"RAG_LLM_BASE_URL": settings.llm_base_url, "RAG_LLM_MODEL": settings.llm_model}
    if missing := [name for name, value in named.items() if not value]:
        raise ConfigError(
            f"RAG_LLM=openai-like needs {' and '.join(missing)} (for Ollama e.g. "
            "http://127.0.0.1:11434/v1 and a model name), or set RAG_LLM=none"
        )


def _explain(exc: BaseException, timeout: float) -> str:
    """A short reason for an LLM failure: unreachable, timed out, HTTP status, bad reply."""
    import openai  # installed with llama-index-llms-openai-like

    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        detail = str(body.get("message") or exc.message)[:200]
        hint = {401: "RAG_LLM_API_KEY", 403: "RAG_LLM_API_KEY"}.get(exc.status_code, "")
        if exc.status_code == 404:
            hint = "RAG_LLM_BASE_URL, usually ending in /v1, and RAG_LLM_MODEL"
        hint = f" (check {hint})" if hint else ""
        return f"failed: HTTP {exc.status_code}: {detail}{hint}"
    if isinstance(exc, openai.APIConnectionError | ConnectionError):
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, ConnectionRefusedError) or "refused" in str(cause).lower():
                return "unavailable: connection refused"
            cause = cause.__cause__ or cause.__context__
        return f"unavailable: cannot connect ({exc})"
    return f"gave a malformed reply ({type(exc).__name__}: {str(exc)[:120]})"


def _abstention(question: str) -> Answer:
    return Answer(not_covered_message(detect_language(question)), abstained=True, mode="llm")
