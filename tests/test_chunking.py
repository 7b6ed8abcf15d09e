"""Chunking: verbatim offsets on any text, sentence alignment, the token budget, footnote labels."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.corpus.chunking import Chunk, chunk_document, clause_windows, split_sentences
from rag.corpus.documents import Document, parse_document
from rag.corpus.text import FOOTNOTE_MARKER, strip_markers
from rag.corpus.tokens import count_tokens

# -- arbitrary text ------------------------------------------------------------------------------

_PIECES = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"[А-Яа-яЁёA-Za-z ,;—]{1,60}[.!?…]", fullmatch=True),
    st.sampled_from(
        [
            "[i]", "[ii]", "[12]", "[^3]", "[1][2]", "[1](http://example.com/x)", "[v]Эта ",
            "\n", "\n\n", "\r\n", "\u2028", "\u00a0", "  ", ". ", "?! ", "…", "«цитата» ",
            "т. е. ", "В. В. Путин ", "Dr. J. Doe ", "5,5 млн. тонн. ", "😀 ", "e\u0301",
            "Примечания\n", "References\n", "1. ", "[ii] ", "[^3]: ", "# Heading\n",
            "Paylaş\n", "Похожие материалы\n", "---\n", "label: x\n", "https://a.example/x ",
        ]
    ),
)  # fmt: skip
TEXTS = st.lists(_PIECES, max_size=40).map("".join)


def _words(text: str) -> int:
    return len(text.split())


def _parse_quietly(text: str) -> Document:
    logging.disable(logging.WARNING)  # arbitrary text warns about markers; keep output clean
    try:
        return parse_document("doc", "doc.md", text)
    finally:
        logging.disable(logging.NOTSET)


def _check_chunk(doc: Document, chunk: Chunk) -> None:
    text = doc.text
    assert 0 <= chunk.start < chunk.end <= len(text)
    shown = text[chunk.start : chunk.end]
    assert shown.strip()
    if chunk.kind == "footnote":
        assert (chunk.start, chunk.end) == doc.entry_spans[chunk.labels[0]]
        return
    assert shown.strip() == shown
    p_start, p_end = doc.paragraphs[chunk.paragraph]
    assert p_start <= chunk.start and chunk.end <= p_end
    assert chunk.sentences[0][0] == chunk.start and chunk.sentences[-1][1] == chunk.end
    for start, end in chunk.units:
        assert chunk.start <= start < end <= chunk.end
        unit = text[start:end]
        assert unit.strip() == unit != ""
    for (_, end), (start, _) in zip(chunk.sentences, chunk.sentences[1:], strict=False):
        assert end <= start


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, budget=st.integers(1, 40))
def test_every_chunk_and_unit_is_a_verbatim_span_of_its_paragraph(text: str, budget: int) -> None:
    doc = _parse_quietly(text)
    chunks = chunk_document(doc, budget, count=_words)
    for chunk in chunks:
        _check_chunk(doc, chunk)
    assert sum(1 for c in chunks if c.kind == "footnote") == len(doc.entry_spans)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, budget=st.integers(1, 40))
def test_passages_respect_the_budget_unless_one_sentence_exceeds_it(text: str, budget: int) -> None:
    doc = _parse_quietly(text)
    for chunk in chunk_document(doc, budget, count=_words):
        if chunk.kind != "footnote" and len(chunk.sentences) > 1:
            sizes = [_words(strip_markers(text[s:e])) for s, e in chunk.sentences]
            assert sum(sizes) <= budget


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS)
def test_sentences_lose_no_text_of_the_paragraph(text: str) -> None:
    doc = _parse_quietly(text)
    for p_start, p_end in doc.paragraphs:
        covered: set[int] = set()
        for start, end in split_sentences(text, p_start, p_end):
            covered.update(range(start, end))
        for marker in FOOTNOTE_MARKER.finditer(text, p_start, p_end):
            covered.update(range(marker.start(), marker.end()))  # a lone leading marker
        lost = [i for i in range(p_start, p_end) if i not in covered and not text[i].isspace()]
        assert not lost, repr(text[p_start:p_end])


@settings(max_examples=200, deadline=None)
@given(text=st.text(min_size=1, max_size=400))
def test_clause_windows_are_inside_the_sentence(text: str) -> None:
    for start, end in clause_windows(text, 0, len(text)):
        assert 0 <= start < end <= len(text)
        assert (start, end) != (0, len(text))


# -- the article ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def article_chunks(article_doc: Document) -> list[Chunk]:
    return chunk_document(article_doc, 160)


def test_article_passages_fit_160_tiktoken_tokens(
    article_doc: Document, article_chunks: list[Chunk]
) -> None:
    for chunk in article_chunks:
        if chunk.kind == "body" and len(chunk.sentences) > 1:
            text = article_doc.text[chunk.start : chunk.end]
            # Sentences are counted one by one; joining them may merge a token or two.
            assert count_tokens(strip_markers(text)) <= 160 + len(chunk.sentences)


def test_article_passages_are_small_enough_to_cite(
    article_doc: Document, article_chunks: list[Chunk]
) -> None:
    body = [c for c in article_chunks if c.kind == "body"]
    assert len(body) >= 20
    assert max(len(c.sentences) for c in body) <= 3


def test_one_passage_per_footnote_entry(article_doc: Document, article_chunks: list[Chunk]) -> None:
    entries = [c for c in article_chunks if c.kind == "footnote"]
    assert [c.labels for c in entries] == [(f.label,) for f in article_doc.footnotes]
    for chunk in entries:
        assert (
            article_doc.footnotes[
                [f.label for f in article_doc.footnotes].index(chunk.labels[0])
            ].url
            in (article_doc.text[chunk.start : chunk.end])
        )


def test_passages_carry_the_labels_of_their_scopes(
    article_doc: Document, article_chunks: list[Chunk]
) -> None:
    def labels_of(needle: str) -> tuple[str, ...]:
        (chunk,) = [
            c
            for c in article_chunks
            if c.kind == "body" and needle in article_doc.text[c.start : c.end]
        ]
        return chunk.labels

    assert labels_of("обе стороны подтвердили") == ("ii",)
    assert labels_of("теплый и необходимый") == ("iii",)
    assert labels_of("Эта коридорная политика") == ()
    assert labels_of("Для России Баку выступает") == ()


def test_passages_do_not_mix_footnote_scopes(
    article_doc: Document, article_chunks: list[Chunk]
) -> None:
    # A citation should point at what one source backs: [ii] and [iii] text stay apart.
    assert all(len(c.labels) <= 1 for c in article_chunks)


def test_markers_stay_in_shown_text(article_doc: Document, article_chunks: list[Chunk]) -> None:
    shown = [article_doc.text[c.start : c.end] for c in article_chunks]
    assert any(text.endswith("контактов.[ii]") for text in shown)


def test_long_sentence_gets_clause_windows() -> None:
    first = "Встреча лидеров в столице Таджикистана Душанбе стала важным шагом к снижению"
    second = "особенно косвенное извинение за инцидент с самолетом в декабре 2024 года"
    third = "положило начало периоду прагматичного компромисса в отношениях двух стран."
    sentence = f"{first} напряженности; {second} положило начало; {third}"
    windows = {sentence[s:e] for s, e in clause_windows(sentence, 0, len(sentence))}
    assert any(w.startswith(second) for w in windows)
    assert all(len(w) < len(sentence) for w in windows)
    assert clause_windows("Короткое предложение, без окон.", 0, 31) == []


def test_front_matter_and_list_bullets_are_never_passage_text() -> None:
    text = (
        '+++\ntitle = "Ports"\ndescription = "Front matter text is metadata."\n+++\n\n'
        "The plan has parts:\n- a new quay[^quay];\n- a rail link[^rail].\n\n"
        "[^quay]: https://example.org/new-quay\n[^rail]: https://example.org/rail-link\n"
    )
    doc = parse_document("p", "p.md", text)
    chunks = chunk_document(doc, 160)
    shown = [(text[c.start : c.end], c.labels, c.kind) for c in chunks]
    assert shown == [
        ("The plan has parts:", (), "body"),
        ("a new quay[^quay];", ("quay",), "body"),
        ("a rail link[^rail].", ("rail",), "body"),
        ("https://example.org/new-quay", ("quay",), "footnote"),
        ("https://example.org/rail-link", ("rail",), "footnote"),
    ]
    for chunk in chunks:
        _check_chunk(doc, chunk)
