"""What of an LLM reply is answer: template tokens, echoed passages and prompt lines, the
sentinel, removed from the finished reply and hidden while it streams."""

from __future__ import annotations

import pytest

from helpers.passages import PESKOV
from rag.answer.llm_prompt import build_prompt, prompt_lines
from rag.answer.llm_reply import clean_reply, visible_deltas, visible_text

ANSWER = "Peskov called the dialogue warm and necessary [1]."
ECHO = prompt_lines(build_prompt("How did Peskov describe it?", [PESKOV], max_tokens=2000))
PROMPT = build_prompt("How did Peskov describe it?", [PESKOV], max_tokens=2000)[1].content or ""
HIDDEN = ("<", ">", "PASSAGE", "NOT_IN", "NOT IN", "start_of_turn", "im_start", "Rules:")

REPLIES = [
    ANSWER,
    f"<start_of_turn>model\n{ANSWER}<end_of_turn>\n<start_of_turn>user\nMore?",
    f"<|im_start|>assistant\n{ANSWER}<|im_end|>",
    f"{PROMPT}\n{ANSWER}",
    f"{ANSWER} NOT_IN_DOCUMENTS",
    f"<<<PASSAGE 1 | document: Russia>>>\n{PESKOV.text}\n<<<END PASSAGE 1>>>\n{ANSWER}",
    f"{ANSWER}\n<<<PASSAGE 2 | document: an echo cut short by the token limit",
    f"<think>the user wants Peskov's words</think>{ANSWER}",
    # Gemma 3 270M on llama.cpp: the rules echoed with words changed, then (here) an answer.
    "Answer the question at the end using only the numbered passages below.\nRules:\n"
    "2. Write in Russian, the language of the question: a few short, plain sentences.\n"
    "3. End every sentence with its passage number that supports it, in square brackets: "
    "[n], or [n][3] for two. Use only the numbers of the passages given.\n"
    f"4. Do not copy the documents' own footnote markers such as [^iii] or [^3].\n\n{ANSWER}",
]


@pytest.mark.parametrize("raw", REPLIES)
def test_only_the_answer_is_left(raw: str) -> None:
    assert clean_reply(raw, ECHO, sentinel=False).strip() == ANSWER
    assert visible_text(raw, ECHO, final=True).strip() == ANSWER


@pytest.mark.parametrize("raw", REPLIES)
def test_nothing_hidden_is_ever_shown_and_shown_text_is_never_taken_back(raw: str) -> None:
    final = visible_text(raw, ECHO, final=True)
    for end in range(len(raw) + 1):  # the reply arriving one character at a time
        shown = visible_text(raw[:end], ECHO)
        assert not any(hidden in shown for hidden in HIDDEN), (end, shown)
        assert final.startswith(shown), (end, shown)


def test_visible_deltas_add_up_to_the_visible_text() -> None:
    raw = REPLIES[1]
    received: list[str] = []
    pieces = [raw[i : i + 3] for i in range(0, len(raw), 3)]
    assert "".join(visible_deltas(pieces, received, ECHO)).strip() == ANSWER
    assert "".join(received) == raw


def test_the_sentinel_stays_for_verification_unless_asked() -> None:
    assert clean_reply("NOT_IN_DOCUMENTS") == "NOT_IN_DOCUMENTS"
    assert clean_reply("NOT_IN_DOCUMENTS", sentinel=False) == ""


def test_a_word_merely_starting_like_the_sentinel_is_shown_once_it_differs() -> None:
    assert visible_text("Peskov praised Aliyev, not", ECHO) == "Peskov praised Aliyev, "
    assert visible_text("Peskov praised Aliyev, nothing", ECHO) == "Peskov praised Aliyev, nothing"
    assert visible_text("x < 6 and", ECHO) == "x "
    assert visible_text("x < 6 and", ECHO, final=True) == "x < 6 and"
