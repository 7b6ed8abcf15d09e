"""Sentence ranking: headings are never the answer, stems meet by prefix, and a question
asking for a sum is not answered by a sentence without one."""

from __future__ import annotations

from pathlib import Path

import rag

PASTA = "Pasta recipes\n\nBoil water with salt. Cook the spaghetti for nine minutes.\n"
GAS = (
    "Gas notes\n\n"
    "Europe cut its imports of Russian pipeline gas sharply in 2024.[^1] "
    "Norway became the largest supplier, followed by the United States with liquefied gas.[^2]\n\n"
    '[^1]: "Europe\'s Gas Pivot", Energy Monitor, https://example.org/a\n'
    '[^2]: "Norway tops EU gas suppliers", Reuters, https://example.org/b\n'
)


def _assistant(tmp_path: Path, name: str, text: str) -> rag.Assistant:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / name).write_text(text, "utf-8")
    return rag.Assistant(
        rag.Settings(embed_model="hash", docs_dir=docs, index_dir=tmp_path / "index")
    )


def test_a_heading_is_never_quoted_as_the_answer(tmp_path: Path) -> None:
    answer = _assistant(tmp_path, "pasta.md", PASTA).query("What is the recipe for carbonara?")
    assert all(c.text != "Pasta recipes" for c in answer.citations)


def test_supplies_finds_supplier(tmp_path: Path) -> None:
    answer = _assistant(tmp_path, "gas.md", GAS).query("Who supplies liquefied gas?")
    assert answer.citations and answer.citations[0].text.startswith("Norway became")
    assert [f.publisher for f in answer.citations[0].footnotes] == ["Reuters"]


COSTS = (
    "Bridge notes\n\n"
    "The Velna bridge was praised by engineers for its design. "
    "The Velna bridge cost 40 million euros and opened in 2029.\n"
)


def test_a_question_asking_for_a_sum_ranks_only_sentences_holding_one(tmp_path: Path) -> None:
    from rag.ranking import rank_sentences

    assistant = _assistant(tmp_path, "bridge.md", COSTS)
    question = "How much did the Velna bridge cost?"
    found = assistant._search(question, 5)
    ranked = rank_sentences(found.store, found.query, found.hits, assistant.profile)
    quoted = [found.store.unit_text(c.sentence) for c in ranked]
    assert quoted == ["The Velna bridge cost 40 million euros and opened in 2029."]
