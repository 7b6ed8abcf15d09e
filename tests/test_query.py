"""The parsed question: language, answer type and intent, computed once."""

from __future__ import annotations

import numpy as np
import pytest

from rag.answer_types import AnswerType
from rag.query import Query, asks_about_sources

VECTOR = np.zeros(4, dtype=np.float32)


@pytest.mark.parametrize(
    "question",
    [
        "What did Peskov say about the call?",
        "What did Peskov report about the call?",
        "Что сказал Песков о разговоре?",
        "Что сообщил Песков о разговоре?",
        "Peskov görüşme hakkında ne söyledi?",
        "Peskov görüşme hakkında ne açıkladı?",
        "Чем был отмечен «ожесточённый» период?",  # one quoted word is not a title
    ],
)
def test_verbs_of_saying_do_not_make_a_question_about_sources(question: str) -> None:
    assert not asks_about_sources(question)


@pytest.mark.parametrize(
    "question",
    [
        "Which agency reported Peskov's words?",
        "Which outlet published the interview?",
        "Какое издание сообщило о разговоре?",
        "Кто написал материал CEPA?",
        "Hangi ajans Peskov'un sözlerini bildirdi?",
        "Who wrote «Putin calls relations with Azerbaijan allied»?",
    ],
)
def test_a_question_naming_a_kind_of_source_is_about_sources(question: str) -> None:
    assert asks_about_sources(question)


def test_parse_aligns_translations_with_words() -> None:
    query = Query.parse("How much did the bridge cost in 2029?", VECTOR, [frozenset({"мост"})])
    assert query.language == "en"
    assert query.wanted is AnswerType.MONEY
    assert "2029" in query.numbers
    assert len(query.translations) == len(query.words)
    assert query.translations[0] == frozenset({"мост"})
    assert all(t == frozenset() for t in query.translations[1:])


def test_parse_reads_the_language_once() -> None:
    assert Query.parse("Кто такой Рашад Набиев?", VECTOR).language == "ru"
    assert Query.parse("Rashad Nabiyev kimdir?", VECTOR).language == "tr"
