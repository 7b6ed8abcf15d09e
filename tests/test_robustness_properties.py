"""Robustness, issue 7 item 7: property tests (hypothesis).

* Parsing and chunking never crash on any text, and every span they return is an exact,
  trimmed slice of the document: paragraphs, markers, scopes, passages, sentences, windows.
* Citation verification of any LLM reply, with any markers, gives an answer whose ``[n]``
  markers and citations agree (``markers_consistent``), numbered densely in order of use.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.answer.verification import markers_consistent, verify_answer
from rag.corpus.chunking import chunk_document
from rag.corpus.documents import parse_document
from rag.corpus.text import strip_markers
from rag.corpus.tokens import count_tokens
from rag.models import Answer, Footnote, Passage


def _examples(n: int) -> int:
    """``n``, times ``ROBUSTNESS_SCALE`` (e.g. 20 for a long bug hunt; 1 in ``make test``)."""
    return max(1, round(n * float(os.environ.get("ROBUSTNESS_SCALE", "1"))))


# Pieces that exercise the parser's rules; hypothesis glues them with arbitrary text.
DOC_PIECES = [
    "\n", "\n\n", "\r\n", "\r", " ", "\t", "\xa0", "\u2028", "\u2029", "\x0c", "\x00",
    "[i]", "[ii]", "[^3]", "[12]", "[iv][v]", "[1](https://x.org/a_(b))", "[x]", "[]", "[^]",
    "# Заголовок\n", "## Примечания\n", "Notes\n", "Kaynaklar:\n", "---\n", "title: T\n",
    "label: iii\n", "url: https://e.x\n",
    "[iii] Автор, “Заголовок”, ТАСС, https://tass.ru/x, (дата обращения: 01.01.2025).\n",
    "[^3]: Note, https://e.org\n", "1. Entry, https://a.b\n", "2) Entry two\n",
    "Поделиться\n", "Share | Tweet\n", "Читайте также:\n", "Related articles\n",
    "Эта статья также доступна на английском\n",
    "Песков назвал разговор тёплым. ", "Путин и Алиев обсудили транзит газа! ",
    "Was it 13%? ", "Т.е. это так… ", "В. Путин сказал. ", "U.S. officials said so. ",
    "Peskov görüşmeyi sıcak olarak nitelendirdi. ", "İstanbul'da; ", " — ", ", ",
    "😀", "\u0301", "\u200b", "\ufeff", "ß", "ǅ", "İ", "ﬁ",  # case-changing, combining
    "x" * 250 + ". ", ("Очень длинное предложение, с запятыми; и точкой с запятой: " * 6),
]  # fmt: skip
document_text = st.lists(
    st.one_of(st.sampled_from(DOC_PIECES), st.text(max_size=30)), max_size=40
).map("".join)


def _check_span(text: str, s: int, e: int, what: str) -> None:
    assert 0 <= s < e <= len(text), f"{what} ({s}, {e}) outside the text ({len(text)})"
    piece = text[s:e]
    assert piece.strip(), f"{what} ({s}, {e}) is blank: {piece!r}"


@settings(
    max_examples=_examples(250), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # fmt: skip
@given(
    text=document_text,
    path=st.sampled_from(["doc.md", "article.ru.txt", "sources/iii.md"]),
    budget=st.sampled_from([16, 48, 160]),
)
def test_parsing_and_chunking_never_crash_and_every_span_is_verbatim(
    text: str, path: str, budget: int
) -> None:
    doc = parse_document("doc", path, text)
    assert doc.text == text  # nothing is rewritten: offsets refer to this very string
    previous_end = -1
    for s, e in doc.paragraphs:
        _check_span(text, s, e, "paragraph")
        assert text[s:e] == text[s:e].strip(), "paragraphs are trimmed"
        assert s >= previous_end, "paragraphs are in order and disjoint"
        previous_end = e
    for m in doc.markers:
        assert re.fullmatch(rf"\[\^?{re.escape(m.label)}\]", text[m.start : m.end], re.I)
    for scope in doc.scopes:
        assert min(scope.start, scope.end) >= 0 and max(scope.start, scope.end) <= len(text)
    for label, (s, e) in doc.entry_spans.items():
        _check_span(text, s, e, f"footnote entry [{label}]")

    chunks = chunk_document(doc, budget)
    labels = {f.label for f in doc.footnotes}
    for chunk in chunks:
        _check_span(text, chunk.start, chunk.end, "passage")
        assert set(chunk.labels) <= labels | ({doc.source_label} - {None})
        if chunk.kind == "footnote":
            assert (chunk.start, chunk.end) == doc.entry_spans[chunk.labels[0]]
            continue
        p_start, p_end = doc.paragraphs[chunk.paragraph]
        assert (chunk.start, chunk.end) == (chunk.sentences[0][0], chunk.sentences[-1][1])
        last = chunk.start
        for s, e in chunk.sentences:
            _check_span(text, s, e, "sentence")
            assert text[s:e] == text[s:e].strip(), "sentences are trimmed"
            assert last <= s, "sentences are in order and disjoint"
            last = e
        for s, e in chunk.units:
            _check_span(text, s, e, "unit")
            assert p_start <= s < e <= p_end, "a unit stays inside its paragraph"
            assert chunk.start <= s < e <= chunk.end, "a unit stays inside its passage"
        if len(chunk.sentences) > 1:  # only a single sentence may exceed the budget
            size = sum(count_tokens(strip_markers(text[s:e])) for s, e in chunk.sentences)
            assert size <= budget


@settings(max_examples=_examples(150), deadline=None)
@given(text=document_text, budget=st.sampled_from([16, 160]))
def test_no_text_of_a_paragraph_is_lost_by_chunking(text: str, budget: int) -> None:
    """Every visible character of every paragraph is in some passage's sentence (a
    document's own footnote markers aside: they are not content, and are never embedded)."""
    doc = parse_document("doc", "doc.md", text)
    covered = [False] * len(text)
    for m in doc.markers:
        covered[m.start : m.end] = [True] * (m.end - m.start)
    for chunk in chunk_document(doc, budget):
        for s, e in chunk.sentences:
            covered[s:e] = [True] * (e - s)
    for p_start, p_end in doc.paragraphs:
        lost = [i for i in range(p_start, p_end) if not text[i].isspace() and not covered[i]]
        assert not lost, f"characters never indexed: {[text[i] for i in lost][:20]!r}"


# -- verification -----------------------------------------------------------------------------

CLAIMS = [
    "Песков назвал разговор тёплым", "Peskov called the talk warm", "Газ подорожал на 13%",
    "The EU plans to stop imports by 2028", "Yes", "The documents do not say",
    "NOT_IN_DOCUMENTS", "not in documents", "<think>[1] hidden</think>", "", " ",
]  # fmt: skip
MARKERS = [
    "[1]", "[2]", "[3]", "[4]", "[0]", "[01]", "[999]", "[1, 2]", "[1,3]", "[2-3]",
    "[3-1]", "[1–2]", "[1; 2]", "[Passage 2]", "[passages 1, 3]", "[ 1 ]", "[^1]", "[ii]",
    "[iii]", "[1](https://x.org)", "[[1]]", "[1][1]", "【1】", "[1.]", "(1)", "[",  "]",
]  # fmt: skip
SEPARATORS = [". ", ".", "! ", "? ", "\n", "\n\n", " ", ", ", "… ", "", ".\n- "]
PASSAGE_TEXTS = [
    "Пресс-секретарь Песков назвал разговор президентов тёплым и нужным.[ii]",
    "Peskov called the talk between the presidents warm and necessary.",
    "Цены на газ выросли на 13% в 2024 году.",
    "The EU plans to stop imports of Russian gas by 2028.[^3]",
    "Unrelated text about the weather in Baku [1].",
]

reply_piece = st.one_of(
    st.tuples(
        st.sampled_from(CLAIMS),
        st.lists(st.sampled_from(MARKERS), max_size=3).map("".join),
        st.sampled_from(SEPARATORS),
        st.booleans(),
    ).map(lambda t: f"{t[0]}{t[2]}{t[1]} " if t[3] else f"{t[0]} {t[1]}{t[2]}"),
    st.text(max_size=25),
)
passages = st.lists(st.sampled_from(PASSAGE_TEXTS), min_size=0, max_size=5).map(
    lambda texts: [
        Passage(
            doc_id=f"d{n}",
            title=f"Doc {n}",
            text=t,
            start=10 * n,
            end=10 * n + len(t),
            footnotes=[Footnote(label="ii", publisher="ТАСС")] if n % 2 else [],
            score=1.0 / (n + 1),
        )
        for n, t in enumerate(texts)
    ]
)


def _check_contract(answer: Answer, shown: list[Passage]) -> None:
    assert markers_consistent(answer), (answer.text, [c.marker for c in answer.citations])
    markers = [c.marker for c in answer.citations]
    assert markers == list(range(1, len(markers) + 1)), "dense, from 1"
    first_use = list(dict.fromkeys(int(n) for n in re.findall(r"\[(\d+)\](?!\()", answer.text)))
    assert first_use == markers, "cited in order of first use"
    by_text = {(p.doc_id, p.start, p.end): p for p in shown}
    for c in answer.citations:
        source = by_text[(c.doc_id, c.start, c.end)]
        assert c.text == source.text and c.title == source.title
    if answer.abstained:
        assert answer.citations == [] and not re.search(r"\[\d+\]", answer.text)


@settings(max_examples=_examples(300), deadline=None)
@given(parts=st.lists(reply_piece, max_size=8).map("".join), shown=passages)
def test_any_llm_reply_verifies_to_consistent_markers(parts: str, shown: list[Passage]) -> None:
    question = "Как Песков охарактеризовал разговор?"
    answer = verify_answer(parts, shown, question)
    _check_contract(answer, shown)


@settings(max_examples=_examples(150), deadline=None)
@given(raw=st.text(max_size=200), shown=passages, question=st.text(max_size=60))
def test_verification_never_crashes_on_arbitrary_text(
    raw: str, shown: list[Passage], question: str
) -> None:
    _check_contract(verify_answer(raw, shown, question), shown)


@settings(max_examples=_examples(150), deadline=None)
@given(parts=st.lists(reply_piece, max_size=6).map("".join), shown=passages)
def test_with_embeddings_the_contract_still_holds(parts: str, shown: list[Passage]) -> None:
    from rag.index.embeddings import HashEmbedder

    embedder = HashEmbedder()
    answer = verify_answer(
        parts, shown, "What did Peskov say?", embed=embedder.encode, min_cosine=0.0
    )
    _check_contract(answer, shown)


# -- what hypothesis found (kept as examples) ------------------------------------------------


def test_an_llm_marker_with_four_digits_does_not_survive_verification() -> None:
    passage = Passage(
        doc_id="d0", title="Doc", start=0, end=71,
        text="Пресс-секретарь Песков назвал разговор президентов тёплым и нужным.[ii]",
    )  # fmt: skip
    raw = "Песков назвал разговор тёплым [1]. Песков назвал разговор тёплым [1000]."
    answer = verify_answer(raw, [passage], "Как Песков охарактеризовал разговор?")
    assert markers_consistent(answer), answer.text


def test_a_bracketed_year_in_a_document_does_not_read_as_a_citation(tmp_path: Path) -> None:
    import rag
    from helpers.shared import settings_for

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "report.txt").write_text(
        "Отчёт о переговорах\n\nПесков назвал разговор тёплым, как и в докладе [2019] о "
        "транзите газа.\n",
        "utf-8",
    )
    assistant = rag.Assistant(settings_for(docs, tmp_path / "index"))
    answer = assistant.query("Как Песков назвал разговор?")
    assert answer.citations and markers_consistent(answer), answer.text


def test_comma_separated_markers_support_the_same_claim() -> None:
    text = "Песков назвал разговор тёплым [ii], [iii]. Второе предложение.\n"
    scopes = {s.label: (s.start, s.end) for s in parse_document("a", "a.md", text).scopes}
    assert scopes["iii"] == scopes["ii"] == (0, len("Песков назвал разговор тёплым"))
