"""Check an LLM's answer against the passages it cites, and make its markers trustworthy.

The LLM writes ``[n]`` for passage n of its prompt. Verification keeps a marker only where
passage n supports the sentence, renumbers the survivors densely, and builds one citation per
marker, so ``answer.text`` and ``answer.citations`` always agree (see :func:`markers_consistent`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields

import numpy as np

from rag.corpus.text import (
    FOOTNOTE_MARKER,
    content_stems,
    detect_language,
    numbers,
    strip_markers,
)
from rag.models import (
    CITATION_MARKER,
    Answer,
    Citation,
    Passage,
    SentenceFlag,
    marker_text,
    not_covered_message,
)

__all__ = ["NOT_IN_DOCUMENTS", "Embed", "answer_sentences", "markers_consistent", "verify_answer"]

Embed = Callable[[list[str]], np.ndarray]

# The reply the prompt asks for when the passages do not answer the question.
NOT_IN_DOCUMENTS = "NOT_IN_DOCUMENTS"

# Share of a sentence's new content stems (those not already in the question) that the cited
# passages must contain. A faithful same-language paraphrase keeps most names, nouns and key
# verbs; half tolerates rewording while rejecting a claim whose key words are absent.
MIN_STEM_COVERAGE = 0.5
# A passage cited by a supported sentence keeps its marker only if it shares at least this
# share of the sentence's content stems: "[1][4]" where [4] is unrelated loses [4].
MIN_PASSAGE_SHARE = 0.2
# Cosine between a sentence and the best-matching sentence of a cited passage, for support
# across languages (an English claim citing a Russian passage). Measured with USE-multilingual
# on the article: 17 faithful English/Turkish renderings scored 0.23-0.71 (median 0.43), 12
# false claims on the same topic 0.13-0.45. At 0.46 about half the true ones pass and none of
# the false: a weak signal, so it never overrides the numbers check. Embedder-specific.
MIN_COSINE = 0.46

_SENTINEL = re.compile(r"NOT[_ ]IN[_ ]DOCUMENTS", re.IGNORECASE)
# The LLM's markers: [3], [1, 2], [1-3], [1][2], "[Passage 2]"; not a markdown link "[1](...)".
_MARKER = r"\[(?:passages?\s*)?(\d+(?:\s*[,;–-]\s*\d+)*)\](?!\()"
_MARKER_RE = re.compile(_MARKER, re.IGNORECASE)
_MARKER_RUN = re.compile(rf"[ \t]*{_MARKER}(?:[ \t]*,?[ \t]*{_MARKER})*", re.IGNORECASE)
_BOUNDARY = re.compile(
    rf"(?P<end>[.!?…]+[\"'»”’)]*(?:[ \t]*{_MARKER})*)(?P<gap>[ \t]+|[ \t]*\n\s*|$)"
    r"|(?P<newline>[ \t]*\n\s*)",
    re.IGNORECASE,
)
_TERMINAL = re.compile(r"[.!?…]+$")
# Uncited sentences that only say the documents lack the answer: kept, never flagged.
_REFUSAL = re.compile(
    r"\b(?:do(?:es)?\s*n[o'’]?t\s+(?:contain|cover|mention|say|provide|include|specify)|"
    r"no information|cannot answer|can't answer|not (?:mentioned|covered|stated|specified))\b"
    r"|нет (?:информации|ответа|сведений|данных)|не (?:содерж|упомина|указ|говорит)"
    r"|не могу ответить|bilgi (?:yok|bulunm|içerm)|yer almıyor|belirtilmemiş|cevap veremem",
    re.IGNORECASE,
)


# The words did not match: only embeddings (other language, paraphrase) can still support it.
_UNDECIDED = "undecided"


@dataclass
class _Sentence:
    body: str  # the sentence without any marker
    sep: str  # the whitespace that followed it in the reply
    cited: list[int] = field(default_factory=list)  # 0-based passage indexes, unique, in order
    had_markers: bool = False
    flag: str | None = None  # why its citations were removed


@dataclass
class _Evidence:
    stems: set[str]
    numbers: set[str]
    sentences: list[str]


def verify_answer(
    raw: str,
    passages: Sequence[Passage],
    question: str,
    *,
    embed: Embed | None = None,
    min_cosine: float = MIN_COSINE,
) -> Answer:
    """Turn an LLM reply citing ``passages`` as ``[1]..[k]`` into a verified :class:`Answer`.

    Unsupported sentences keep their text, lose their markers and are listed in
    ``Answer.flags``; markers are renumbered densely. ``embed`` (texts -> L2-normalized rows)
    lets a sentence be supported across languages. When the reply says the passages hold no
    answer, or no sentence keeps a citation, the answer is an abstention.
    """
    language = detect_language(question)
    sentences = _parse(raw, len(passages))
    evidence = [_evidence_of(p) for p in passages]
    question_stems = content_stems(question)
    pending: list[_Sentence] = []  # lexically unsupported: embeddings may still rescue them
    for sentence in sentences:
        reason = _check_lexically(sentence, evidence, question_stems)
        if reason == _UNDECIDED:
            pending.append(sentence)
        elif reason:
            sentence.flag, sentence.cited = reason, []
    for sentence in _rescue(pending, evidence, embed, min_cosine):
        plural = "s do" if len(sentence.cited) > 1 else " does"
        sentence.flag, sentence.cited = f"the cited passage{plural} not support it", []
    flags = [SentenceFlag(s.body, s.flag) for s in sentences if s.flag]
    if not any(s.cited for s in sentences):
        return Answer(not_covered_message(language), abstained=True, flags=flags, mode="llm")
    return _assemble(sentences, passages, flags)


def markers_consistent(answer: Answer) -> bool:
    """True when the ``[n]`` in the text are exactly the citations' markers, each cited once."""
    in_text = {int(n) for n in CITATION_MARKER.findall(answer.text)}
    markers = [c.marker for c in answer.citations]
    return in_text == set(markers) and markers == sorted(set(markers))


def answer_sentences(text: str) -> list[tuple[str, str]]:
    """An answer's ``text`` as (sentence, following whitespace) pairs; the markers after a
    full stop stay with their sentence. (A document's sentences, with offsets:
    rag.corpus.chunking.)"""
    out: list[tuple[str, str]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if match.group("end") is not None:
            following = text[match.end() : match.end() + 1]
            if following.islower() or _is_initial(text, match.start()):
                continue  # "e.g. this", "т.е. это", "U.S.", "В. Путин": not a sentence end
            cut = match.start("gap")
        else:
            cut = match.start()
        if text[start:cut].strip():
            out.append((text[start:cut], match.group("gap") or match.group("newline") or ""))
        start = match.end()
    if text[start:].strip():
        out.append((text[start:], ""))
    return out


def _is_initial(text: str, dot: int) -> bool:
    """A single letter before the full stop: an initial or part of "U.S."."""
    return (
        dot >= 1
        and text[dot] == "."
        and text[dot - 1].isalpha()
        and (dot < 2 or not text[dot - 2].isalpha())
    )


def _parse(raw: str, passage_count: int) -> list[_Sentence]:
    """Sentences of the reply with their valid citations; the sentinel's sentences dropped."""
    raw = re.sub(r"<think>.*?</think>", "", raw, flags=re.DOTALL)  # reasoning models' notes
    # The documents' own markers ([ii], [^3]) that the LLM copied: never LLM markers.
    raw = FOOTNOTE_MARKER.sub(_keep_numeric_marker, raw)
    sentences: list[_Sentence] = []
    for text, sep in answer_sentences(raw):
        if _SENTINEL.search(text):
            continue
        numbers_cited = [n for m in _MARKER_RE.finditer(text) for n in _expand(m.group(1))]
        body = _tidy(_MARKER_RUN.sub("", text))
        cited = list(dict.fromkeys(n - 1 for n in numbers_cited if 1 <= n <= passage_count))
        if not body.strip(" \t-*•") and sentences:  # a line of bare markers: the claim above
            sentences[-1].cited = list(dict.fromkeys(sentences[-1].cited + cited))
            sentences[-1].sep = sep
            continue
        sentences.append(_Sentence(body, sep, cited, bool(numbers_cited)))
    return sentences


def _keep_numeric_marker(match: re.Match[str]) -> str:
    """A plain "[3]" is the LLM's; "[^3]" and "[iii]" are the documents' and go."""
    numeric = match.group("label").isdigit() and "^" not in match.group()
    return match.group() if numeric else ""


def _expand(group: str) -> list[int]:
    """ "1, 3" -> [1, 3]; "2-4" -> [2, 3, 4] (short ranges only)."""
    out: list[int] = []
    for part in re.split(r"\s*[,;]\s*", group):
        ends = [int(x) for x in re.split(r"\s*[–-]\s*", part) if x]
        if len(ends) == 2 and 0 <= ends[1] - ends[0] <= 10:
            out.extend(range(ends[0], ends[1] + 1))
        else:
            out.extend(ends)
    return out


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]{2,}", " ", text)
    return re.sub(r"[ \t]+([.,;:!?…)»”])", r"\1", text).strip()


def _evidence_of(passage: Passage) -> _Evidence:
    """What a passage can vouch for: its words, numbers, title and footnote entries."""
    text = strip_markers(passage.text)
    meta = " ".join([passage.title, *(f"{f.title} {f.publisher}" for f in passage.footnotes)])
    sentences = [s for s, _ in answer_sentences(text)] or [text]
    return _Evidence(content_stems(f"{text} {meta}"), numbers(f"{text} {meta}"), sentences)


def _check_lexically(
    sentence: _Sentence, evidence: list[_Evidence], question_stems: set[str]
) -> str | None:
    """None if supported (trimming unrelated markers), _UNDECIDED, or why it is unsupported."""
    stems, nums = content_stems(sentence.body), numbers(sentence.body)
    if not sentence.cited:
        if not stems or _REFUSAL.search(sentence.body):
            return None  # not a claim ("Yes.") or an honest "the documents don't say"
        return "cites no retrieved passage" if sentence.had_markers else "cites no passage"
    cited = [evidence[i] for i in sentence.cited]
    missing = nums - set().union(*(e.numbers for e in cited))
    if missing:  # a number the passages don't state is the likeliest hallucination
        return f"numbers not in the cited passages: {', '.join(sorted(missing))}"
    # Words the question already supplies say nothing about support; judge the rest.
    novel = (stems - question_stems) or stems
    if not novel:
        return None
    union = set().union(*(e.stems for e in cited))
    if len(novel & union) / len(novel) < MIN_STEM_COVERAGE:
        return _UNDECIDED
    shares = [len(novel & evidence[i].stems) / len(novel) for i in sentence.cited]
    best = max(range(len(shares)), key=shares.__getitem__)
    kept = [i for i, s in zip(sentence.cited, shares, strict=True) if s >= MIN_PASSAGE_SHARE]
    sentence.cited = kept or [sentence.cited[best]]
    return None


def _rescue(
    pending: list[_Sentence], evidence: list[_Evidence], embed: Embed | None, min_cosine: float
) -> list[_Sentence]:
    """Keep the citations a sentence's embedding supports; return the sentences still failing."""
    if not pending or embed is None:
        return pending
    needed = sorted({i for s in pending for i in s.cited})
    texts = [s.body for s in pending]
    owners: list[int] = []
    for i in needed:
        texts.extend(evidence[i].sentences)
        owners.extend([i] * len(evidence[i].sentences))
    vectors = np.asarray(embed(texts), dtype=np.float32)
    sims = vectors[: len(pending)] @ vectors[len(pending) :].T
    failing = []
    for row, sentence in zip(sims, pending, strict=True):
        best = {i: max(v for v, o in zip(row, owners, strict=True) if o == i) for i in needed}
        kept = [i for i in sentence.cited if best[i] >= min_cosine]
        if kept:
            sentence.cited = kept
        else:
            failing.append(sentence)
    return failing


def _assemble(
    sentences: list[_Sentence], passages: Sequence[Passage], flags: list[SentenceFlag]
) -> Answer:
    """Renumber the surviving markers densely and build one citation per marker."""
    marker_of: dict[int, int] = {}
    parts: list[str] = []
    for sentence in sentences:
        for i in sentence.cited:
            marker_of.setdefault(i, len(marker_of) + 1)
        marks = "".join(marker_text(marker_of[i]) for i in sentence.cited)
        parts.append(_with_markers(sentence.body, marks) + sentence.sep)
    citations = [
        Citation(**{f.name: getattr(passages[i], f.name) for f in fields(Passage)}, marker=n)
        for i, n in marker_of.items()
    ]
    return Answer("".join(parts).strip(), citations=citations, flags=flags, mode="llm")


def _with_markers(body: str, marks: str) -> str:
    """ "Claim." + "[1]" -> "Claim [1]." (markers close the claim, before its full stop)."""
    if not marks:
        return body
    end = _TERMINAL.search(body)
    if end is None:
        return f"{body} {marks}"
    return f"{body[: end.start()].rstrip()} {marks}{body[end.start() :]}"
