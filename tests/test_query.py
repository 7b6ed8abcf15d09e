"""The parsed question: language, answer type and intent, computed once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from rag.answer_types import AnswerType
from rag.corpus.lexicon import Lexicon
from rag.corpus.text import content_words
from rag.index.embeddings import HashEmbedder
from rag.query import Query, asks_about_sources, parse_query

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
        # A source noun not asked about: an attribution, or another sense of the word
        "According to the analytics agency, how much grain was exported?",
        "По данным агентства, сколько зерна вывезли?",
        "Kazakistan Su Kaynakları Komitesi'nin başkanı kimdir?",
        "Ajansa göre ihracat ne kadar arttı?",
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
        "What is the source of the export figure?",
        "Which news agency published Peskov's remark?",
        "Из какого источника взята цифра?",
        "Bu bilginin kaynağı nedir?",
        "Hangi gazete ihracat gelirini yazdı?",
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


def test_parse_query_embeds_words_with_the_word_encoder_when_given() -> None:
    lexicon = Lexicon.build(
        ["мост", "стоимость"], HashEmbedder(dim=16).encode(["мост", "стоимость"])
    )
    calls: dict[str, list[int]] = {"text": [], "words": []}

    def embed(texts: Sequence[str]) -> np.ndarray:
        calls["text"].append(len(texts))
        return HashEmbedder(dim=48).encode(texts)

    def embed_words(texts: Sequence[str]) -> np.ndarray:
        calls["words"].append(len(texts))
        return HashEmbedder(dim=16).encode(texts)

    query = parse_query("How much did the bridge cost?", embed, lexicon, embed_words)
    assert calls == {"text": [1], "words": [len(query.words)]}
    assert query.vector.shape == (48,)
    one_call = parse_query("How much did the bridge cost?", embed_words, lexicon)
    assert one_call.words == query.words and len(one_call.translations) == len(query.words)


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("How much gas did Azerbaijan deliver to Uniper?", ["azerbaijan", "uniper"]),
        ("Когда НАТО и ЕС подписали соглашение?", ["нато", "ес"]),
        ("Putin ile Aliyev nerede görüştü?", ["aliyev"]),  # the first word: no telling
        ("when did the talks end?", []),
    ],
)
def test_names_are_the_words_written_as_names(question: str, names: list[str]) -> None:
    query = Query.parse(question, VECTOR)
    flagged = [w for w, flag in zip(content_words(question), query.names, strict=True) if flag]
    assert flagged == names
