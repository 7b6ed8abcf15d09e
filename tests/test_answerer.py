"""The one answerer interface: quoting and the LLM both implement it, the Assistant picks one
from the settings, and the LLM's gives way to the quoted answer when its reply fails."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterator

import pytest

from llm_server import FakeLLMServer, closed_port
from rag import Answer, Assistant, Settings
from rag.answer.answerer import Answerer, LLMWithFallback, QuotingAnswerer, Search, final_answer
from rag.answer.llm import LLMAnswerer, llm_failure_note
from rag.assistant import MIN_ANSWER_PASSAGES
from rag.errors import LLMError

QUESTION = "Как Песков охарактеризовал разговор Путина и Алиева?"
VERIFIED = "Песков назвал разговор Путина и Алиева теплым и необходимым [1]."
UNVERIFIABLE = "Песков сказал, что разговор прошёл хорошо."  # no [n]: nothing can be checked


def _llm_settings(settings: Settings, base_url: str) -> Settings:
    update = {"llm": "openai-like", "llm_base_url": base_url, "llm_model": "scripted"}
    return settings.model_copy(update=update | {"llm_timeout": 5.0})


class CountingAnswerer:
    """An answerer that counts its questions and answers each with one fixed answer."""

    def __init__(self, answer: Answer) -> None:
        self.fixed, self.asked = answer, 0

    def answer(self, found: Search) -> Answer:
        self.asked += 1
        return self.fixed

    def stream(self, found: Search) -> Iterator[str | Answer]:
        yield self.answer(found)


@pytest.fixture
def assistant(shared_index: Callable[..., Settings]) -> Assistant:
    return Assistant(shared_index())


@pytest.fixture
def found(assistant: Assistant) -> Search:
    """What the Assistant finds for QUESTION before it answers it (k=5)."""
    return assistant._search(QUESTION, 5, MIN_ANSWER_PASSAGES)


@pytest.mark.parametrize("kind", [QuotingAnswerer, LLMWithFallback, CountingAnswerer])
def test_each_answerer_has_the_interface_s_methods_and_signatures(kind: type) -> None:
    for name in ("answer", "stream"):
        wanted = inspect.signature(getattr(Answerer, name))
        assert inspect.signature(getattr(kind, name)) == wanted, (kind, name)


def test_both_answerers_are_answerers(assistant: Assistant) -> None:
    quoting = QuotingAnswerer(assistant.profile)
    llm = LLMWithFallback(LLMAnswerer(_llm_settings(assistant.settings, "http://x/v1")), quoting)
    assert isinstance(quoting, Answerer) and isinstance(llm, Answerer)


def test_without_an_llm_the_assistant_quotes(assistant: Assistant) -> None:
    answerer = assistant.answerer()
    assert isinstance(answerer, QuotingAnswerer)
    assert assistant.answerer() is answerer  # chosen once
    assert isinstance(assistant.answerer("llm"), QuotingAnswerer)  # none to ask


def test_with_an_llm_the_assistant_asks_it_and_falls_back_to_quoting(
    assistant: Assistant,
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"  # nothing is contacted to choose
    with_llm = Assistant(_llm_settings(assistant.settings, url))
    answerer = with_llm.answerer()
    assert isinstance(answerer, LLMWithFallback)
    assert isinstance(answerer.fallback, QuotingAnswerer)
    assert isinstance(answerer.llm_answerer, LLMAnswerer)
    assert with_llm.answerer() is answerer and with_llm.answerer("llm") is answerer
    assert isinstance(with_llm.answerer("extractive"), QuotingAnswerer)


def test_extractive_mode_needs_no_llm_settings(assistant: Assistant) -> None:
    # RAG_LLM set but no server named: only a question for the LLM reports it
    misconfigured = Assistant(assistant.settings.model_copy(update={"llm": "openai-like"}))
    assert isinstance(misconfigured.answerer("extractive"), QuotingAnswerer)


def test_quoting_streams_its_answer_whole(assistant: Assistant, found: Search) -> None:
    quoting = QuotingAnswerer(assistant.profile)
    text, answer = quoting.stream(found)
    assert isinstance(answer, Answer) and text == answer.text
    assert answer == quoting.answer(found) == assistant.query(QUESTION, mode="extractive")
    assert answer.mode == "extractive" and answer.citations


def test_a_verified_llm_answer_never_asks_the_fallback(assistant: Assistant, found: Search) -> None:
    fallback = CountingAnswerer(Answer("quoted [1]."))
    with FakeLLMServer(VERIFIED) as server:
        llm = LLMAnswerer(_llm_settings(assistant.settings, server.base_url))
        *chunks, final = LLMWithFallback(llm, fallback).stream(found)
    assert chunks and isinstance(final, Answer) and final.mode == "llm"
    assert [c.marker for c in final.citations] == [1] and fallback.asked == 0
    prompt = str(server.requests[0]["messages"])
    assert f"<<<END PASSAGE {found.k}>>>" in prompt  # it read the best k passages, no more
    assert f"<<<END PASSAGE {found.k + 1}>>>" not in prompt and len(found.hits) > found.k


def test_an_unverifiable_reply_falls_back_to_the_quoted_answer(
    assistant: Assistant, found: Search
) -> None:
    quoting = QuotingAnswerer(assistant.profile)
    with FakeLLMServer(UNVERIFIABLE) as server:
        llm = LLMAnswerer(_llm_settings(assistant.settings, server.base_url))
        final = LLMWithFallback(llm, quoting).answer(found)
    quoted = quoting.answer(found)
    assert server.requests and final.mode == "extractive" and not final.abstained
    assert dataclasses.replace(final, notes=quoted.notes) == quoted
    (note,) = final.notes[len(quoted.notes) :]
    assert "failed verification" in note
    assert note == llm_failure_note(LLMError(note[note.index("(") + 1 : note.rindex(");")]), "ru")


def test_the_assistant_falls_back_exactly_as_its_llm_answerer_does(
    assistant: Assistant, found: Search
) -> None:
    with FakeLLMServer(UNVERIFIABLE) as server:
        with_llm = Assistant(_llm_settings(assistant.settings, server.base_url))
        direct = with_llm.answerer().answer(found)
        asked = with_llm.query(QUESTION, k=5)
    assert asked == direct and asked.mode == "extractive" and asked.notes


def test_final_answer_is_the_stream_s_last_answer() -> None:
    answer = Answer("done [1].")
    stream: list[str | Answer] = ["do", "ne", answer]
    assert final_answer(iter(stream)) is answer
    with pytest.raises(AssertionError):
        final_answer(iter(["no answer"]))
