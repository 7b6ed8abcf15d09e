"""Sentence ranking: headings are never the answer, stems meet by prefix, and a question
asking for a sum is not answered by a sentence without one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import rag

Over = Callable[[str, str], rag.Assistant]

PASTA = "Pasta recipes\n\nBoil water with salt. Cook the spaghetti for nine minutes.\n"
GAS = (
    "Gas notes\n\n"
    "Europe cut its imports of Russian pipeline gas sharply in 2024.[^1] "
    "Norway became the largest supplier, followed by the United States with liquefied gas.[^2]\n\n"
    '[^1]: "Europe\'s Gas Pivot", Energy Monitor, https://example.org/a\n'
    '[^2]: "Norway tops EU gas suppliers", Reuters, https://example.org/b\n'
)


@pytest.fixture
def assistant_over(shared_index: Callable[..., rag.Settings]) -> Over:
    """``assistant_over(name, text)``: a fresh assistant over the one document ``name`` (its
    index shared by the tests that ask for the same document; none of them changes it)."""

    def over(name: str, text: str) -> rag.Assistant:
        return rag.Assistant(shared_index(f"ranking-{name}", lambda docs: _write(docs, name, text)))

    return over


def _write(docs: Path, name: str, text: str) -> None:
    (docs / name).write_text(text, "utf-8")


def test_a_heading_is_never_quoted_as_the_answer(assistant_over: Over) -> None:
    answer = assistant_over("pasta.md", PASTA).query("What is the recipe for carbonara?")
    assert all(c.text != "Pasta recipes" for c in answer.citations)


def test_supplies_finds_supplier(assistant_over: Over) -> None:
    answer = assistant_over("gas.md", GAS).query("Who supplies liquefied gas?")
    assert answer.citations and answer.citations[0].text.startswith("Norway became")
    assert [f.publisher for f in answer.citations[0].footnotes] == ["Reuters"]


COSTS = (
    "Bridge notes\n\n"
    "The Velna bridge was praised by engineers for its design. "
    "The Velna bridge cost 40 million euros and opened in 2029.\n"
)


def test_a_question_asking_for_a_sum_ranks_only_sentences_holding_one(assistant_over: Over) -> None:
    from rag.answer.ranking import rank_sentences

    assistant = assistant_over("bridge.md", COSTS)
    question = "How much did the Velna bridge cost?"
    found = assistant._search(question, 5)
    ranked = rank_sentences(found.store, found.query, found.hits, assistant.profile)
    quoted = [found.store.unit_text(c.sentence) for c in ranked]
    assert quoted == ["The Velna bridge cost 40 million euros and opened in 2029."]


def test_query_terms_tell_a_name_the_corpus_never_mentions(assistant_over: Over) -> None:
    from rag.answer.ranking import query_terms

    assistant = assistant_over("gas.md", GAS)
    known = assistant._search("How much gas did Norway supply?", 5)
    unknown = assistant._search("How much gas did Uniper buy from Norway?", 5)
    assert not query_terms(known.store, known.query).unknown_name
    assert query_terms(unknown.store, unknown.query).unknown_name


def test_a_sentence_holding_the_year_asked_about_is_numbered(assistant_over: Over) -> None:
    from rag.answer.ranking import rank_sentences

    assistant = assistant_over("bridge.md", COSTS)
    for question, numbered in (("What opened in 2029?", True), ("What opened in 2031?", False)):
        found = assistant._search(question, 5)
        ranked = rank_sentences(found.store, found.query, found.hits, assistant.profile)
        best = next(c for c in ranked if "2029" in found.store.unit_text(c.sentence))
        assert best.numbered is numbered


CITED = (
    "Rail notes\n\n"
    "The corridor will carry five million tonnes a year by 2028.[^1] "
    "Freight trains already run twice a week.\n\n"
    "The port of Alat was expanded in 2023.\n\n"
    '[^1]: Marta Oksanen, "Corridor Freight Outlook", Rail Monitor, https://example.org/r\n'
)


def test_a_question_naming_a_cited_author_finds_the_claim_that_cites_them(
    assistant_over: Over,
) -> None:
    """The footnote entry names the author; the claim under the footnote is what answers
    what she expects (the chain read backwards), not the entry itself."""
    from rag.answer.ranking import rank_sentences

    assistant = assistant_over("rail.md", CITED)
    found = assistant._search("What freight volume does Marta Oksanen expect by 2028?", 5)
    ranked = rank_sentences(found.store, found.query, found.hits, assistant.profile)
    best = found.store.unit_text(ranked[0].sentence)
    assert best.startswith("The corridor will carry")
    assert ranked[0].lexical > 0
    assert all(found.store.passages[c.passage].kind != "footnote" for c in ranked)


def test_who_a_cited_author_is_is_answered_by_the_entry_naming_them(
    assistant_over: Over,
) -> None:
    """ "Who is Marta Oksanen?" is nothing but a name that only the footnote entry holds:
    the entry, author and title of the source, is where the documents say who she is (an
    entry without closing punctuation is no heading)."""
    from rag.answer.ranking import rank_sentences

    assistant = assistant_over("rail.md", CITED)
    found = assistant._search("Who is Marta Oksanen?", 5)
    ranked = rank_sentences(found.store, found.query, found.hits, assistant.profile)
    assert found.store.unit_text(ranked[0].sentence).startswith("Marta Oksanen")
    answer = assistant.query("Who is Marta Oksanen?")
    assert not answer.abstained and answer.citations[0].footnotes[0].label == "1"


RESCUE = (
    "Rescue notes\n\n"
    "Last autumn the rescue team took delivery of a new four-wheel-drive ambulance. "
    "It cost £94,500.\n\n"
    "The museum opened its new hall in 1964, and the rescue team trains there.\n"
)


def test_a_sentence_that_answers_only_after_the_one_before_is_quoted_with_it(
    assistant_over: Over,
) -> None:
    # "It cost £94,500." names no ambulance: read with the sentence before it, it answers.
    answer = assistant_over("rescue.md", RESCUE).query(
        "What was the price of the rescue team's new ambulance?"
    )
    assert answer.citations, answer.text
    assert answer.citations[0].text.startswith("Last autumn")
    assert answer.citations[0].text.endswith("It cost £94,500.")


def test_a_sentence_is_not_read_with_the_one_before_across_a_paragraph(
    assistant_over: Over,
) -> None:
    answer = assistant_over("rescue.md", RESCUE).query("When did the museum open its new hall?")
    assert answer.citations and answer.citations[0].text.startswith("The museum opened")
