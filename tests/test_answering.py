"""Cited answers: the [n] contract, verbatim citations, footnotes, abstention, the source chain."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import rag
from rag.models import not_covered_message

if TYPE_CHECKING:
    from conftest import AnswerCheck


def _labels(citation: rag.Citation) -> list[str]:
    return [f.label for f in citation.footnotes]


# -- unit tests with the hash embedder -----------------------------------------------------


def test_every_dev_answer_keeps_the_contract_with_the_hash_embedder(
    shared_assistant: rag.Assistant, dev_set: list[dict[str, Any]], check_answer: AnswerCheck
) -> None:
    for row in dev_set:
        answer = shared_assistant.query(row["question"])
        assert isinstance(answer, rag.Answer)
        check_answer(answer, shared_assistant)


def test_a_source_no_footnote_cites_is_still_quoted_alone(
    hash_settings: rag.Settings, check_answer: AnswerCheck
) -> None:
    sources = hash_settings.docs_dir / "sources"
    sources.mkdir()
    (sources / "zz.md").write_text(
        "---\nlabel: zz\nurl: https://example.org/zz\n---\n\n"
        "The Zanzibar ferry timetable changed in March 2031 after a long dispute.\n",
        "utf-8",
    )
    assistant = rag.Assistant(hash_settings)
    answer = assistant.query("When did the Zanzibar ferry timetable change?")
    check_answer(answer, assistant)
    assert [c.doc_id for c in answer.citations] == ["source-zz"]
    assert "March 2031" in answer.text


ALPHA = (
    "# Alpha\n\nAlpha exports grew in 2020. Beta imports of alpha fell in 2020.[^1]\n\n"
    '[^1]: "Alpha trade", Trade Weekly, https://example.org/alpha\n'
)
ALPHA_QUESTION = "What happened to alpha exports and imports in 2020?"


def _alpha_answer(tmp_path: Path, source: str, check_answer: AnswerCheck) -> rag.Answer:
    """Ask about two claims under one footnote [^1], whose source text is ``source``."""
    docs = tmp_path / "docs"
    (docs / "sources").mkdir(parents=True)
    (docs / "notes.md").write_text(ALPHA, "utf-8")
    header = "---\nlabel: 1\nurl: https://example.org/alpha\n---\n\n"
    (docs / "sources" / "1.md").write_text(header + source, "utf-8")
    settings = rag.Settings(embed_model="hash", docs_dir=docs, index_dir=tmp_path / "index")
    assistant = rag.Assistant(settings)
    answer = assistant.query(ALPHA_QUESTION)
    check_answer(answer, assistant)
    return answer


def test_a_source_passage_backing_two_claims_is_quoted_once_and_pointed_at_twice(
    tmp_path: Path, check_answer: AnswerCheck
) -> None:
    source = "Alpha trade in 2020: exports grew and imports fell.\n"
    answer = _alpha_answer(tmp_path, source, check_answer)
    assert [c.doc_id for c in answer.citations] == ["notes", "source-1", "notes"]
    assert answer.text.count("[2]") == 2  # one quote of the source, behind both claims


def test_a_further_claim_whose_source_would_overrun_the_budget_is_quoted_without_it(
    tmp_path: Path, check_answer: AnswerCheck
) -> None:
    padding = " ".join(["the ministry published the full tables for every province."] * 5)
    source = (
        f"Alpha exports grew in 2020, {padding}\n\nBeta imports of alpha fell in 2020, {padding}\n"
    )
    answer = _alpha_answer(tmp_path, source, check_answer)
    assert [c.doc_id for c in answer.citations] == ["notes", "source-1", "notes"]
    assert answer.text.endswith("[3]")  # the second claim, its footnote, no second source
    assert answer.citations[2].footnotes[0].label == "1"


def test_quoted_sentence_is_verbatim_without_the_documents_markers(
    shared_assistant: rag.Assistant,
) -> None:
    answer = shared_assistant.query("Как Песков охарактеризовал разговор?")
    assert not answer.abstained
    first = answer.citations[0]
    assert "[iii]" in first.text  # the citation shows the passage as written …
    assert "[iii]" not in answer.text  # … the answer text does not copy the marker
    assert first.text.replace("[iii]", "").rstrip() in answer.text
    assert _labels(first) == ["iii"]
    assert first.footnotes[0].publisher == "TASS"
    assert first.footnotes[0].url == "https://tass.ru/politika/26006283"


def test_citation_is_a_sentence_not_a_paragraph(shared_assistant: rag.Assistant) -> None:
    answer = shared_assistant.query("Как Песков охарактеризовал разговор?")
    assert all(len(c.text) <= 500 for c in answer.citations)
    assert sum(len(c.text) for c in answer.citations) <= 1000


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Щзхъ фывапролд ячсмить?", "ru"),
        ("Qwxz vbnmkj plokij?", "en"),
        ("Şğüıöç xqwz nedir?", "tr"),
    ],
)
def test_nonsense_question_abstains_in_its_language(
    shared_assistant: rag.Assistant, question: str, language: str
) -> None:
    answer = shared_assistant.query(question)
    assert answer.abstained
    assert answer.citations == []
    assert answer.text == not_covered_message(language)


def test_markdown_link_in_a_quote_does_not_look_like_a_citation(
    tmp_path: Path, check_answer: AnswerCheck
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text(
        "# Railway notes\n\nThe railway tariffs were agreed by the three countries, see "
        "[3](http://example.com/a) for the memorandum text.\n\nUnrelated gardening text.\n",
        "utf-8",
    )
    assistant = rag.Assistant(
        rag.Settings(embed_model="hash", llm="none", docs_dir=docs, index_dir=tmp_path / "ix")
    )
    answer = assistant.query("Were the railway tariffs agreed by the three countries?")
    assert not answer.abstained
    check_answer(answer, assistant)


# -- integration: the real multilingual embedder -------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize(
    ("question", "evidence", "label"),
    [
        (
            "What did the Kremlin press service say both sides confirmed?",
            "обе стороны подтвердили",
            "ii",
        ),
        (
            "Azerbaycan ulaştırma bakanı 2028 için hangi yük hedefini koydu?",
            "5 миллионов тонн",
            "v",
        ),
        ("Как Песков охарактеризовал разговор?", "теплый и необходимый", "iii"),
    ],
)
def test_answer_quotes_the_evidence_with_its_footnote(
    real_assistant: rag.Assistant,
    question: str,
    evidence: str,
    label: str,
    check_answer: AnswerCheck,
) -> None:
    answer = real_assistant.query(question)
    assert not answer.abstained
    check_answer(answer, real_assistant)
    assert evidence in answer.text
    cited = next(c for c in answer.citations if evidence in c.text)
    assert label in _labels(cited)
    assert len(cited.text) < 600  # a sentence, not the whole paragraph


@pytest.mark.integration
def test_claim_under_iii_carries_the_tass_footnote(real_assistant: rag.Assistant) -> None:
    answer = real_assistant.query("How did Peskov describe the leaders' dialogue?")
    notes = [f for c in answer.citations for f in c.footnotes if f.label == "iii"]
    assert notes, answer.text
    note = notes[0]
    assert note.publisher == "TASS"
    assert note.url == "https://tass.ru/politika/26006283"
    assert "Peskov" in note.title
    assert note.source_doc_id is None  # no source saved in this corpus


@pytest.mark.integration
@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("What is the recipe for borscht with beetroot?", "en"),
        ("Какой рецепт борща со свёклой?", "ru"),
        ("Bakü'de kaç kişi yaşıyor?", "tr"),
    ],
)
def test_question_the_article_does_not_cover_abstains_in_its_language(
    real_assistant: rag.Assistant, question: str, language: str
) -> None:
    answer = real_assistant.query(question)
    assert answer.abstained, answer.text
    assert answer.citations == []
    assert answer.text == not_covered_message(language)


@pytest.mark.integration
def test_footnote_chain_reaches_the_saved_source(
    chain_assistant: rag.Assistant, source_iii_text: str, check_answer: AnswerCheck
) -> None:
    answer = chain_assistant.query("Как Песков охарактеризовал разговор?")
    check_answer(answer, chain_assistant)
    article = [c for c in answer.citations if c.doc_id == "article" and "iii" in _labels(c)]
    sources = [c for c in answer.citations if c.doc_id == "source-iii"]
    assert article, answer.text
    assert sources, answer.text
    claim = article[0]
    assert "теплый и необходимый" in claim.text
    note = next(f for f in claim.footnotes if f.label == "iii")
    assert note.source_doc_id == "source-iii"
    assert note.publisher == "TASS"
    # The source passage comes right after the claim it backs, and names the same footnote.
    follow_up = next(c for c in answer.citations if c.marker == claim.marker + 1)
    assert follow_up.doc_id == "source-iii"
    assert _labels(follow_up) == ["iii"]
    assert follow_up.footnotes[0].url == note.url
    assert follow_up.title == "Песков назвал разговор Путина и Алиева очень теплым и нужным"
    assert follow_up.text in source_iii_text
    assert not follow_up.text.startswith(("---", "#", "label:", "url:"))
    assert f"[{claim.marker}][{follow_up.marker}]" in answer.text.replace(" ", "")


@pytest.mark.integration
@pytest.mark.parametrize(
    "question",
    [
        "How did Peskov describe the conversation between Putin and Aliyev?",
        "Peskov, Putin ile Aliyev arasındaki görüşmeyi nasıl nitelendirdi?",
    ],
)
def test_a_source_sentence_that_answers_best_is_quoted_behind_the_claim_citing_it(
    chain_assistant: rag.Assistant, question: str, check_answer: AnswerCheck
) -> None:
    """Across languages the TASS sentence matches better than the article's; the answer still
    quotes the article's claim, with the source as the end of its chain, never alone."""
    answer = chain_assistant.query(question)
    check_answer(answer, chain_assistant)
    first, second = answer.citations[:2]
    assert first.doc_id == "article" and "теплый и необходимый" in first.text
    assert second.doc_id == "source-iii" and "очень теплым и нужным" in second.text
    assert _labels(first) == _labels(second) == ["iii"]
    assert answer.text.startswith("Этот диалог на уровне лидеров")
    assert len({(c.doc_id, c.start) for c in answer.citations}) == len(answer.citations)


@pytest.mark.integration
def test_source_footnote_is_listed_with_its_source(chain_assistant: rag.Assistant) -> None:
    notes = {f.label: f for f in chain_assistant.footnotes()}
    assert notes["iii"].source_doc_id == "source-iii"
    assert all(notes[label].source_doc_id is None for label in ("i", "ii", "iv", "v", "vi"))


SOURCE_IV = """\
---
label: iv
url: https://aze.media/putin-calls-relations-with-azerbaijan-allied/
title: Putin calls relations with Azerbaijan 'allied'
---

Russian President Vladimir Putin congratulated Azerbaijani President Ilham Aliyev on his \
birthday in a message published by the Kremlin. Putin noted Azerbaijan's successes in the \
social and economic spheres. He wished Aliyev good health and success.
"""


@pytest.mark.integration
def test_each_claim_under_one_footnote_cites_the_source_sentence_behind_it(
    tmp_path: Path, real_embedder: Any, check_answer: AnswerCheck
) -> None:
    from helpers.shared import make_corpus

    docs = make_corpus(tmp_path)
    (docs / "sources").mkdir()
    (docs / "sources" / "iv.md").write_text(SOURCE_IV, "utf-8")
    settings = rag.Settings(docs_dir=docs, index_dir=tmp_path / "index")
    assistant = rag.Assistant(settings, embedder=real_embedder)
    answer = assistant.query("What did Putin wish Aliyev in his birthday message?")
    check_answer(answer, assistant)
    claims = [c for c in answer.citations if c.doc_id == "article"]
    sources = [c for c in answer.citations if c.doc_id == "source-iv"]
    assert len(claims) == 2 and all(_labels(c) == ["iv"] for c in claims)
    assert "поздравил его с днем рождения" in claims[0].text
    assert "пожелания здоровья и успехов" in claims[1].text
    # Each claim is followed by the source sentence that says the same, not the first one.
    assert [c.marker for c in answer.citations] == [1, 2, 3, 4]
    assert [c.doc_id for c in answer.citations] == ["article", "source-iv"] * 2
    assert "congratulated" in sources[0].text and "birthday" in sources[0].text
    assert sources[1].text == "He wished Aliyev good health and success."
    assert sum(len(c.text) for c in answer.citations) <= 700


@pytest.mark.integration
@pytest.mark.parametrize(
    "question",
    [
        "Which outlet reported that Peskov called the conversation warm and necessary?",
        "Hangi ajans Peskov'un sözlerini haber yaptı?",
    ],
)
def test_a_question_about_the_source_quotes_the_footnote_entry_naming_it(
    real_assistant: rag.Assistant, question: str, check_answer: AnswerCheck
) -> None:
    answer = real_assistant.query(question)
    check_answer(answer, real_assistant)
    assert any("TASS, https://tass.ru/politika/26006283" in c.text for c in answer.citations)
    assert all(_labels(c) == ["iii"] for c in answer.citations)
