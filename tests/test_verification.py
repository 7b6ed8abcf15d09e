"""Verification of LLM answers: markers kept only where the cited passage supports the claim."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.passages import PESKOV
from rag.answer.verification import answer_sentences, markers_consistent, verify_answer
from rag.models import Answer, Citation, Footnote, Passage, not_covered_message

PUTIN_RU = Passage(
    doc_id="article",
    title="Российско-азербайджанские отношения",
    text="Президент России Владимир Путин поздравил Президента Азербайджана Ильхама Алиева "
    "с днем рождения.[ii]",
    start=0,
    end=95,
    footnotes=[Footnote("ii", publisher="Kremlin")],
    score=0.8,
)
GAS = Passage(
    doc_id="source-vi",
    title="EU energy strategy",
    text="The EU plans to fully replace Russian gas by 2028. Imports from Russia fell from "
    "45% to 13%.",
    start=0,
    end=90,
    score=0.7,
)
PASSAGES = [PESKOV, PUTIN_RU, GAS]
QUESTION = "What did Peskov say about the dialogue, and what does the EU plan for gas?"


def verify(raw: str, question: str = QUESTION, **kwargs: object) -> Answer:
    answer = verify_answer(raw, PASSAGES, question, **kwargs)
    assert markers_consistent(answer), answer
    assert answer.mode == "llm"
    return answer


def passage_of(citation: Citation) -> Passage:
    return next(p for p in PASSAGES if (p.doc_id, p.start) == (citation.doc_id, citation.start))


def test_a_supported_answer_keeps_its_citations() -> None:
    answer = verify(
        "Peskov called the dialogue warm and necessary [1]. The EU plans to replace "
        "Russian gas by 2028, and imports fell from 45% to 13% [3]."
    )
    assert not answer.abstained and not answer.flags
    assert answer.text == (
        "Peskov called the dialogue warm and necessary [1]. The EU plans to replace "
        "Russian gas by 2028, and imports fell from 45% to 13% [2]."
    )
    assert [c.marker for c in answer.citations] == [1, 2]
    assert [passage_of(c) for c in answer.citations] == [PESKOV, GAS]
    first = answer.citations[0]
    assert (first.text, first.footnotes, first.score) == (PESKOV.text, PESKOV.footnotes, 0.9)


def test_markers_are_renumbered_densely_in_order_of_first_use() -> None:
    answer = verify(
        "The EU plans to replace Russian gas by 2028 [3]. Peskov called the dialogue warm [1]. "
        "Imports from Russia fell to 13% [3]."
    )
    assert answer.text == (
        "The EU plans to replace Russian gas by 2028 [1]. Peskov called the dialogue warm [2]. "
        "Imports from Russia fell to 13% [1]."
    )
    assert [(c.marker, passage_of(c)) for c in answer.citations] == [(1, GAS), (2, PESKOV)]


def test_a_marker_naming_no_passage_is_dropped() -> None:
    answer = verify("Peskov called the dialogue warm and necessary [1][9].")
    assert answer.text == "Peskov called the dialogue warm and necessary [1]."
    assert [c.marker for c in answer.citations] == [1]


def test_an_unsupported_claim_loses_its_citation_and_is_flagged() -> None:
    answer = verify(
        "Peskov called the dialogue cold and hostile [1]. The EU plans to replace Russian gas "
        "by 2028 [3]."
    )
    assert answer.text == (
        "Peskov called the dialogue cold and hostile. The EU plans to replace Russian gas "
        "by 2028 [1]."
    )
    assert [passage_of(c) for c in answer.citations] == [GAS]
    assert [f.sentence for f in answer.flags] == ["Peskov called the dialogue cold and hostile."]


def test_a_number_the_cited_passage_does_not_state_is_flagged() -> None:
    answer = verify("Imports from Russia fell from 45% to 12% [3]. Peskov called it warm [1].")
    assert answer.text == "Imports from Russia fell from 45% to 12%. Peskov called it warm [1]."
    assert "12" in answer.flags[0].reason


def test_a_citation_to_the_wrong_passage_is_removed() -> None:
    answer = verify("The EU plans to replace Russian gas by 2028 [1]. Peskov said it was warm [1].")
    assert (
        answer.text == "The EU plans to replace Russian gas by 2028. Peskov said it was warm [1]."
    )
    assert [passage_of(c) for c in answer.citations] == [PESKOV]


def test_an_irrelevant_extra_citation_is_trimmed() -> None:
    answer = verify("Peskov called the dialogue warm and necessary [1][3].")
    assert answer.text == "Peskov called the dialogue warm and necessary [1]."


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Что Песков сказал о погоде в Баку?", "ru"),
        ("What did Peskov say about the weather?", "en"),
        ("Peskov Bakü'deki hava durumu hakkında ne söyledi?", "tr"),
    ],
)
def test_not_in_documents_is_an_abstention_in_the_question_language(
    question: str, language: str
) -> None:
    answer = verify("NOT_IN_DOCUMENTS", question)
    assert answer.abstained and answer.citations == []
    assert answer.text == not_covered_message(language)


@pytest.mark.parametrize(
    "raw",
    [
        "NOT_IN_DOCUMENTS.",
        "  not in documents  ",
        "The passages do not mention the weather in Baku.",
        "Peskov described the weather as sunny [1].",  # no sentence keeps a citation
        "",
    ],
)
def test_other_replies_without_support_abstain(raw: str) -> None:
    answer = verify(raw)
    assert answer.abstained and answer.citations == []
    assert answer.text == not_covered_message("en")


def test_copied_document_markers_never_become_citations() -> None:
    answer = verify(
        "Peskov called the dialogue “warm and necessary”.[iii][1] TASS reported it [^2][1]."
    )
    assert answer.text == (
        "Peskov called the dialogue “warm and necessary” [1]. TASS reported it [1]."
    )
    assert "[iii]" not in answer.text and "[^2]" not in answer.text
    assert [c.marker for c in answer.citations] == [1]


def test_marker_forms_lists_ranges_and_markers_after_the_full_stop() -> None:
    answer = verify(
        "Peskov called the dialogue warm. [1] The EU plans to replace Russian gas by 2028 "
        "[1, 3]. Imports from Russia fell to 13% [2-3]."
    )
    assert answer.text == (
        "Peskov called the dialogue warm [1]. The EU plans to replace Russian gas by 2028 [2]. "
        "Imports from Russia fell to 13% [2]."
    )


def test_uncited_claims_are_flagged_but_honest_gaps_are_not() -> None:
    answer = verify(
        "Peskov called the dialogue warm [1]. He also praised the weather. "
        "The documents do not say what Aliyev replied."
    )
    assert [f.sentence for f in answer.flags] == ["He also praised the weather."]
    assert answer.flags[0].reason == "cites no passage"
    assert answer.text.endswith("The documents do not say what Aliyev replied.")


def test_reasoning_notes_are_dropped() -> None:
    answer = verify("<think>The user wants [2].</think>Peskov called the dialogue warm [1].")
    assert answer.text == "Peskov called the dialogue warm [1]."


CONCEPTS = {
    "putin": ("putin", "путин"),
    "birthday": ("birthday", "рождения"),
    "gas": ("gas", "газ"),
}


def concept_embed(texts: list[str]) -> np.ndarray:
    """A tiny bilingual 'embedder': one dimension per concept, L2-normalized."""
    rows = np.array(
        [[any(w in t.lower() for w in words) for words in CONCEPTS.values()] for t in texts],
        dtype=np.float32,
    )
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)


def test_embeddings_support_a_claim_in_another_language() -> None:
    raw = "Putin congratulated Aliyev on his birthday [2]. Gas deliveries stopped [2]."
    without = verify(raw, "Who congratulated Aliyev?")
    assert without.abstained  # words alone cannot match English to Russian
    answer = verify(raw, "Who congratulated Aliyev?", embed=concept_embed)
    assert answer.text == "Putin congratulated Aliyev on his birthday [1]. Gas deliveries stopped."
    assert [passage_of(c) for c in answer.citations] == [PUTIN_RU]
    assert [f.sentence for f in answer.flags] == ["Gas deliveries stopped."]


def test_russian_answer_is_checked_with_russian_stems() -> None:
    answer = verify("Путин поздравил Алиева с днём рождения [2].", "Кто поздравил Алиева?")
    assert answer.text == "Путин поздравил Алиева с днём рождения [1]."
    assert [passage_of(c) for c in answer.citations] == [PUTIN_RU]


def test_sentence_splitting_keeps_initials_abbreviations_and_trailing_markers() -> None:
    pieces = [s for s, _ in answer_sentences("В. В. Путин, т.е. президент, звонил. [1] Next [2]!")]
    assert pieces == ["В. В. Путин, т.е. президент, звонил. [1]", "Next [2]!"]
    assert [s for s, _ in answer_sentences("One [1]\n- Two [2]\n\nThree")] == [
        "One [1]",
        "- Two [2]",
        "Three",
    ]


def test_markers_consistent_detects_disagreement() -> None:
    citation = Citation(**{**PESKOV.to_dict(), "footnotes": []}, marker=1)
    assert markers_consistent(Answer("Claim [1].", [citation]))
    assert not markers_consistent(Answer("Claim [1][2].", [citation]))
    assert not markers_consistent(Answer("Claim.", [citation]))
    assert not markers_consistent(Answer("Claim [1].", [citation, citation]))


FRAGMENTS = [
    "Peskov called the dialogue warm",
    "The EU plans to replace Russian gas by 2028",
    "Putin congratulated Aliyev",
    "Путин поздравил Алиева с днём рождения",
    "Imports fell to 13%",
    "It rained in 1999",
    "NOT_IN_DOCUMENTS",
    "",
]
MARKERS = ["[1]", "[2]", "[3]", "[0]", "[7]", "[1, 3]", "[2-3]", "[ii]", "[^3]", "[iii]", "[12]"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(FRAGMENTS),
            st.lists(st.sampled_from(MARKERS), max_size=3),
            st.sampled_from([". ", ".", "! ", "\n", " ", ", "]),
            st.booleans(),
        ),
        max_size=6,
    )
)
def test_every_verified_answer_has_consistent_dense_markers(
    parts: list[tuple[str, list[str], str, bool]],
) -> None:
    raw = "".join(
        f"{text}{sep}{''.join(marks)} " if after else f"{text} {''.join(marks)}{sep}"
        for text, marks, sep, after in parts
    )
    answer = verify(raw, embed=concept_embed)
    markers = [c.marker for c in answer.citations]
    assert markers == list(range(1, len(markers) + 1))
    assert all(passage_of(c).text == c.text for c in answer.citations)
    assert not answer.abstained or answer.citations == []
    assert "[ii]" not in answer.text and "[^3]" not in answer.text
