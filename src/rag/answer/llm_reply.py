"""What of an LLM's reply is answer, both finished and while it streams.

Small or base models echo the prompt: our ``<<<PASSAGE n>>>`` blocks, the rules, chat-template
tokens (``<start_of_turn>``, ``<|im_start|>``) and the NOT_IN_DOCUMENTS sentinel. None of it
is an answer, none of it may reach the user, and none of it should be judged by verification.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from rag.answer.verification import NOT_IN_DOCUMENTS

__all__ = ["STOP_SEQUENCES", "clean_reply", "visible_deltas", "visible_text"]

# Sent with every request: where a well-behaved server stops, the echo never starts. Four at
# most (OpenAI's limit); clean_reply removes the rest whatever the server does.
STOP_SEQUENCES = ("<<<", "<start_of_turn>", "<end_of_turn>", "<|im_start|>")

# A new turn opening the reply ("<start_of_turn>model\n"): the answer follows it.
_TURN_OPENING = re.compile(
    r"\A\s*(?:(?:<start_of_turn>|<\|im_start\|>|<\|start_header_id\|>)[ \t]*"
    r"(?:model|assistant)?[ \t]*(?:<\|end_header_id\|>)?\s*)+",
    re.IGNORECASE,
)
# Any other template token ends the answer: what follows is the model playing another turn.
_TEMPLATE_TOKEN = re.compile(
    r"<(?:start_of_turn|end_of_turn|eos|bos|/s)>|<\|[a-z_]{2,30}\|>|\[/?INST\]", re.IGNORECASE
)
_ROLES = ("model", "assistant")
_THINKING = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
# An echoed passage block, to its end tag or, unfinished, to the end of the reply.
_ECHOED_BLOCK = re.compile(
    r"<<<[ \t]*PASSAGE\b.*?(?:<<<[ \t]*END[ \t]+PASSAGE\b[^>\n]*>>>|\Z)", re.DOTALL
)
_STRAY_DELIMITER = re.compile(r"<<<[^<>\n]{0,200}>>>|<<<.*\Z|>>>", re.DOTALL)
_SENTINEL = re.compile(r"NOT[_ ]IN[_ ]DOCUMENTS", re.IGNORECASE)
_SENTINEL_FORMS = (NOT_IN_DOCUMENTS.lower(), NOT_IN_DOCUMENTS.lower().replace("_", " "))
# An unclosed "<" this close to the end may still become a template token or a delimiter.
_TOKEN_HOLD = 40


def clean_reply(raw: str, echo: frozenset[str] = frozenset(), *, sentinel: bool = True) -> str:
    """``raw`` less template tokens (and any turn after them), reasoning notes, echoed passage
    blocks and delimiters, and lines repeating the prompt (``echo``, see
    :func:`rag.answer.llm_prompt.prompt_lines`). ``sentinel=False`` removes the sentinel too."""
    text = _TURN_OPENING.sub("", raw)
    if (token := _TEMPLATE_TOKEN.search(text)) is not None:
        text = text[: token.start()]
    text = _THINKING.sub("", text)
    text = _STRAY_DELIMITER.sub("", _ECHOED_BLOCK.sub("", text))
    lines = text.split("\n")
    text = "\n".join(line for line in lines if not _repeats_prompt(line, echo))
    if not sentinel:
        text = _SENTINEL.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text)


def visible_text(raw: str, echo: frozenset[str] = frozenset(), *, final: bool = False) -> str:
    """What of a reply still arriving may be shown: :func:`clean_reply` without the sentinel,
    less a tail that could still turn into something hidden ("<start_of", "NOT_IN", the start
    of a prompt line). ``final`` (the reply is complete) holds nothing back."""
    if not final:
        raw = raw[: len(raw) - _undecided_tail(raw, echo)]
    return clean_reply(raw, echo, sentinel=False)


def visible_deltas(
    deltas: Iterable[str], received: list[str], echo: frozenset[str]
) -> Iterator[str]:
    """The shown text's new pieces as ``deltas`` arrive (all collected in ``received``)."""
    shown = ""
    for delta in deltas:
        received.append(delta)
        visible = visible_text("".join(received), echo)
        if visible.startswith(shown) and len(visible) > len(shown):
            yield visible[len(shown) :]
            shown = visible
    visible = visible_text("".join(received), echo, final=True)
    if visible.startswith(shown) and len(visible) > len(shown):
        yield visible[len(shown) :]


def _undecided_tail(raw: str, echo: frozenset[str]) -> int:
    """How many characters at the end of ``raw`` cannot be judged yet."""
    holds = [0]
    opening = raw.rfind("<")
    while opening > 0 and raw[opening - 1] == "<":  # "<<<PASS": the whole run of "<"
        opening -= 1
    if opening >= 0 and ">" not in raw[opening:] and len(raw) - opening <= _TOKEN_HOLD:
        holds.append(len(raw) - opening)
    if _TURN_OPENING.match(raw):  # "<start_of_turn>mod": the role word may be arriving
        rest = _TURN_OPENING.sub("", raw)
        if rest and "\n" not in rest and any(r.startswith(rest.strip().lower()) for r in _ROLES):
            holds.append(len(rest))
    lowered = raw.lower()
    for size in range(1, min(len(raw), len(_SENTINEL_FORMS[0])) + 1):
        tail = lowered[-size:]
        at_word_start = size == len(raw) or not raw[-size - 1].isalnum()
        if at_word_start and any(form.startswith(tail) for form in _SENTINEL_FORMS):
            holds.append(size)
    line = raw[raw.rfind("\n") + 1 :]
    if line.strip() and _may_repeat_prompt(line, echo):
        holds.append(len(line))
    return max(holds)


# A line sharing this much of its words with a line of the prompt, both ways, repeats it:
# base models echo the rules with a word or two changed ("its passage number", "[n]").
ECHO_OVERLAP = 0.6
# A line still arriving is held back while this much of it is in one line of the prompt
# (held a little too often rather than shown and taken back).
PARTIAL_ECHO_OVERLAP = 0.6


def _repeats_prompt(line: str, echo: frozenset[str]) -> bool:
    """Whether a finished line of the reply repeats a line of the prompt, near enough."""
    if line.strip() in echo:
        return bool(line.strip())
    words = set(_words(line))
    for prompt_words in _prompt_words(echo):
        shared = len(words & set(prompt_words))
        if shared >= ECHO_OVERLAP * max(len(words), len(set(prompt_words))):
            return True
    return False


def _may_repeat_prompt(partial: str, echo: frozenset[str]) -> bool:
    """Whether a line still arriving may turn out to repeat a line of the prompt: its first
    words begin one, or most of its words are in one."""
    words = _words(partial)
    if not words:
        return bool(echo)  # "3. " or "- ": too early to tell
    if len(words) < 3:  # the last word may still be growing: "A" of "Answer"
        return any(
            p[: len(words) - 1] == words[:-1] and p[len(words) - 1].startswith(words[-1])
            for p in _prompt_words(echo, minimum=len(words))
        )
    growing = words[-1] if partial[-1:].isalnum() else ""  # "q" of "question"
    done = set(words[:-1] if growing else words)
    share = PARTIAL_ECHO_OVERLAP * len(set(words))
    return any(
        len(done & set(p)) + any(w.startswith(growing) for w in p if growing) >= share
        for p in _prompt_words(echo)
    )


def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\w+", text.lower()))


@lru_cache(maxsize=64)
def _prompt_words(echo: frozenset[str], minimum: int = 3) -> tuple[tuple[str, ...], ...]:
    """The words of each prompt line of at least ``minimum`` words."""
    return tuple(w for line in echo if len(w := _words(line)) >= minimum)
