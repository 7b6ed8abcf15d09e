"""The Assistant with an LLM: verified answers, streaming, and the extractive fallback."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from llm_server import FakeLLMServer, Reply, closed_port
from rag import Answer, Assistant, Settings
from rag.answer.llm import llm_abstained_note, llm_failure_note
from rag.errors import LLMError

QUESTION = "Как Песков охарактеризовал разговор Путина и Алиева?"


@pytest.fixture
def settings(shared_index: Callable[..., Settings]) -> Settings:
    """The article's shared hash index: the LLM settings come on top, the index is the same."""
    return shared_index()


def _with_llm(settings: Settings, base_url: str, timeout: float = 5.0) -> Assistant:
    return Assistant(
        settings.model_copy(
            update={
                "llm": "openai-like",
                "llm_base_url": base_url,
                "llm_model": "scripted",
                "llm_timeout": timeout,
            }
        )
    )


def test_llm_answer_keeps_verified_citations_and_streams(settings: Settings) -> None:
    reply = "Песков назвал разговор Путина и Алиева теплым и необходимым [1]."
    with FakeLLMServer(reply) as server:
        items = list(_with_llm(settings, server.base_url).stream(QUESTION, k=5))
    *chunks, final = items
    assert chunks and all(isinstance(c, str) for c in chunks)
    assert isinstance(final, Answer) and final.mode == "llm"
    assert not final.abstained
    assert final.text.endswith("[1].")
    assert [c.marker for c in final.citations] == [1]
    assert "iii" in {f.label for f in final.citations[0].footnotes}
    # the prompt carried the retrieved passage
    prompt = str(server.requests[0]["messages"])
    assert "теплый и необходимый" in prompt


def test_unreachable_llm_falls_back_to_quoted_answer_with_a_note(settings: Settings) -> None:
    assistant = _with_llm(settings, f"http://127.0.0.1:{closed_port()}/v1")
    answer = assistant.query(QUESTION)
    assert answer.mode == "extractive" and answer.citations
    assert answer.notes and "LLM" in answer.notes[0]


def test_slow_llm_times_out_into_the_fallback(settings: Settings) -> None:
    with FakeLLMServer(Reply("поздно [1].", delay=5)) as server:
        assistant = _with_llm(settings, server.base_url, timeout=1.0)
        started = time.monotonic()
        answer = assistant.query(QUESTION)
    assert time.monotonic() - started < 4
    assert answer.citations and answer.notes


def test_server_error_falls_back(settings: Settings) -> None:
    with FakeLLMServer(Reply(status=500)) as server:
        answer = _with_llm(settings, server.base_url).query(QUESTION)
    assert answer.citations and "500" in answer.notes[0]


def test_explicit_extractive_mode_never_calls_the_llm(settings: Settings) -> None:
    with FakeLLMServer("unused [1].") as server:
        answer = _with_llm(settings, server.base_url).query(QUESTION, mode="extractive")
    assert server.requests == [] and answer.mode == "extractive"


def test_a_reply_that_fails_verification_falls_back_instead_of_abstaining(
    settings: Settings,
) -> None:
    # issue 13: a base model wrote no [n] markers and every answer became "not in the documents"
    with FakeLLMServer("Песков сказал, что разговор прошёл хорошо.") as server:
        items = list(_with_llm(settings, server.base_url).stream(QUESTION))
    final = items[-1]
    assert isinstance(final, Answer) and final.mode == "extractive"
    assert not final.abstained and final.citations
    assert final.notes == [llm_failure_note(LLMError(_reason(final.notes[0])), "ru")]
    assert "failed verification" in final.notes[0] and "cites no passage" in final.notes[0]


def test_an_llm_abstention_gives_way_to_a_confident_quoted_answer(settings: Settings) -> None:
    with FakeLLMServer("NOT_IN_DOCUMENTS") as server:
        answer = _with_llm(settings, server.base_url).query(QUESTION)
    assert server.requests  # the LLM was asked, and said the passages hold no answer
    assert answer.mode == "extractive" and not answer.abstained and answer.citations
    assert answer.notes == [llm_abstained_note("ru")]


def test_an_echoed_prompt_falls_back_and_is_never_shown(settings: Settings) -> None:
    with FakeLLMServer(Reply(echo=True)) as server:
        *chunks, final = _with_llm(settings, server.base_url).stream(QUESTION)
    assert not any("<<<" in str(c) or "PASSAGE" in str(c) for c in chunks)
    assert isinstance(final, Answer) and final.citations and "echo of the prompt" in final.notes[0]


def test_a_stall_mid_answer_falls_back_at_the_idle_timeout(settings: Settings) -> None:
    reply = Reply("Песков назвал разговор теплым [1].", chunk_delay=1.0)  # twice the idle timeout
    with FakeLLMServer(reply) as server:
        assistant = Assistant(
            settings.model_copy(
                update={
                    "llm": "openai-like",
                    "llm_base_url": server.base_url,
                    "llm_model": "scripted",
                    "llm_timeout": 60.0,
                    "llm_idle_timeout": 0.5,
                }
            )
        )
        assistant.build_index()
        started = time.monotonic()
        answer = assistant.query(QUESTION)
    assert time.monotonic() - started < 1.0 + 0.5 + 3
    assert answer.citations and "RAG_LLM_IDLE_TIMEOUT" in answer.notes[0]


def _reason(note: str) -> str:
    """The LLMError message inside a failure note: "... (reason); showing ..."."""
    return note[note.index("(") + 1 : note.rindex(");")]
