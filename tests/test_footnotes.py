"""Footnotes: entries in the forms real documents use, markers, and the scope rule."""

from __future__ import annotations

import logging

import pytest

from rag.chunking import split_sentences
from rag.documents import Document, parse_document
from rag.footnotes import find_markers, parse_entry, scopes_of_paragraph
from rag.models import Footnote

# -- entries ---------------------------------------------------------------------------------


def test_entry_in_the_articles_own_form() -> None:
    body = (
        "Emil Avdaliani, “Putin Seeks to Solve His Azerbaijan Problem”,\u00a0CEPA, "
        "https://cepa.org/article/putin-seeks-to-solve-his-azerbaijan-problem/, "
        "(Дата обращения: 24.12.2025)."
    )
    assert parse_entry("I", body) == Footnote(
        label="i",
        title="Putin Seeks to Solve His Azerbaijan Problem",
        publisher="CEPA",
        url="https://cepa.org/article/putin-seeks-to-solve-his-azerbaijan-problem/",
        accessed="24.12.2025",
    )


def test_gost_entry() -> None:
    body = (
        "Иванов И. И. Транспортные коридоры Евразии // Вестник науки. 2020. № 3. "
        "URL: https://example.org/article (дата обращения: 01.02.2023)."
    )
    note = parse_entry("1", body)
    assert note.title == "Транспортные коридоры Евразии"
    assert note.publisher == "Вестник науки"
    assert note.url == "https://example.org/article"
    assert note.accessed == "01.02.2023"


def test_guillemet_quoted_entry() -> None:
    note = parse_entry("2", "«Заголовок новости», Коммерсантъ, https://kommersant.ru/doc/1")
    assert (note.title, note.publisher, note.url) == (
        "Заголовок новости",
        "Коммерсантъ",
        "https://kommersant.ru/doc/1",
    )


def test_markdown_link_entry_takes_the_link_text_as_title() -> None:
    note = parse_entry("3", "[The Other Report](https://other.example/r), Globe.")
    assert (note.title, note.publisher, note.url) == (
        "The Other Report",
        "Globe",
        "https://other.example/r",
    )


def test_unquoted_author_title_publisher_entry() -> None:
    note = parse_entry("4", "Smith J., Title of paper, Nature, https://nature.com/x")
    assert (note.title, note.publisher, note.url) == (
        "Title of paper",
        "Nature",
        "https://nature.com/x",
    )


def test_english_accessed_date() -> None:
    note = parse_entry(
        "5", '"A Study", Science Weekly, https://sci.example/1, accessed 3 March 2024.'
    )
    assert note.accessed == "3 March 2024"
    assert note.url == "https://sci.example/1"


def test_entry_with_only_a_url_uses_it_as_title() -> None:
    note = parse_entry("6", "https://example.org/only-a-link")
    assert note.title == note.url == "https://example.org/only-a-link"


# -- markers and scopes ----------------------------------------------------------------------


def _scoped(text: str) -> dict[str, str]:
    markers = find_markers(text, 0, len(text))
    return {
        s.label: text[s.start : s.end] for s in scopes_of_paragraph(text, 0, len(text), markers)
    }


def test_marker_supports_text_back_to_the_previous_marker() -> None:
    text = "One. Two.[1] Three.[2] Four."
    assert _scoped(text) == {"1": "One. Two.", "2": "Three."}


def test_back_to_back_markers_share_one_scope() -> None:
    text = "First claim. Second claim.[1][2] Third."
    assert _scoped(text) == {"1": "First claim. Second claim.", "2": "First claim. Second claim."}


def test_markers_are_found_with_offsets_and_lower_case_labels() -> None:
    text = "a[ii] b[^3] c[12]"
    found = find_markers(text, 0, len(text))
    assert [(m.label, text[m.start : m.end]) for m in found] == [
        ("ii", "[ii]"),
        ("3", "[^3]"),
        ("12", "[12]"),
    ]


def test_markdown_link_is_not_a_marker() -> None:
    text = "See [1](http://example.com/x) and [2]."
    assert [m.label for m in find_markers(text, 0, len(text))] == ["2"]


# -- synthetic documents -----------------------------------------------------------------------

NUMERIC_DOC = """\
Транспортные коридоры и их значение для региона

Первое утверждение статьи. Второе утверждение статьи.[1] Третье без сноски.

Четвёртое утверждение статьи.[2][3] Пятое утверждение.

Примечания

1. Иванов И. И. Коридоры // Вестник науки. 2020. URL: https://ex.org/a (дата обращения: 01.02.2023).
2. «Заголовок новости», Коммерсантъ, https://kommersant.ru/doc/1, (дата обращения: 02.02.2023).
3) Smith J., Title of paper, Nature, https://nature.com/x
"""


def _sentence_labels(doc: Document, paragraph: int) -> list[tuple[str, list[str]]]:
    start, end = doc.paragraphs[paragraph]
    return [(doc.text[s:e], doc.labels_in(s, e)) for s, e in split_sentences(doc.text, start, end)]


def test_numeric_markers_with_a_numbered_notes_list() -> None:
    doc = parse_document("n", "n.txt", NUMERIC_DOC)
    assert [f.label for f in doc.footnotes] == ["1", "2", "3"]
    assert [f.url for f in doc.footnotes] == [
        "https://ex.org/a",
        "https://kommersant.ru/doc/1",
        "https://nature.com/x",
    ]
    assert (doc.footnotes[0].title, doc.footnotes[0].accessed) == ("Коридоры", "01.02.2023")
    assert doc.footnotes[1].publisher == "Коммерсантъ"
    assert doc.warnings == ()
    assert _sentence_labels(doc, 1) == [
        ("Первое утверждение статьи.", ["1"]),
        ("Второе утверждение статьи.[1]", ["1"]),
        ("Третье без сноски.", []),
    ]
    assert _sentence_labels(doc, 2) == [
        ("Четвёртое утверждение статьи.[2][3]", ["2", "3"]),
        ("Пятое утверждение.", []),
    ]
    assert not any("Примечания" in doc.text[s:e] for s, e in doc.paragraphs)
    assert not any("Вестник" in doc.text[s:e] for s, e in doc.paragraphs)


MARKDOWN_DOC = """\
# An English report with footnotes

Claim one is here.[^1] Claim two follows.[^2] See [1](http://example.com/x) for more. Tail.

[^1]: Jane Doe, "A Study of Things", Science Weekly, https://sci.example/1, accessed 3 March 2024.
[^2]: [The Other Report](https://other.example/r), Globe.
"""


def test_markdown_caret_markers_with_definitions() -> None:
    doc = parse_document("m", "m.md", MARKDOWN_DOC)
    assert doc.title == "An English report with footnotes"
    assert {f.label: (f.title, f.publisher) for f in doc.footnotes} == {
        "1": ("A Study of Things", "Science Weekly"),
        "2": ("The Other Report", "Globe"),
    }
    assert [m.label for m in doc.markers] == ["1", "2"]  # the link "[1](…)" is no marker
    assert _sentence_labels(doc, 0) == [
        ("Claim one is here.[^1]", ["1"]),
        ("Claim two follows.[^2]", ["2"]),
        ("See [1](http://example.com/x) for more.", []),
        ("Tail.", []),
    ]
    assert not any("[^1]:" in doc.text[s:e] for s, e in doc.paragraphs)


def test_english_references_heading_with_numbered_list() -> None:
    text = (
        "A short English article\n\n"
        "Ports expanded quickly.[1] Trade followed.[2]\n\n"
        "References\n\n"
        '1. Ann Lee, "Ports of the Caspian", Maritime Review, https://mr.example/ports\n'
        '2) "Trade Routes", Trade Weekly, https://tw.example/routes\n'
    )
    doc = parse_document("r", "r.txt", text)
    assert {f.label: (f.title, f.publisher) for f in doc.footnotes} == {
        "1": ("Ports of the Caspian", "Maritime Review"),
        "2": ("Trade Routes", "Trade Weekly"),
    }
    assert doc.warnings == ()


def test_numbered_list_outside_a_notes_section_is_body_text() -> None:
    text = "Steps of the plan\n\n1. Build the railway line.\n2. Open the port.\n"
    doc = parse_document("s", "s.txt", text)
    assert doc.footnotes == ()
    assert any("Build the railway" in doc.text[s:e] for s, e in doc.paragraphs)


def test_marker_without_entry_warns_and_gets_a_bare_footnote(
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = "Title of a small document\n\nA claim.[7] Another claim.\n"
    with caplog.at_level(logging.WARNING, logger="rag.documents"):
        doc = parse_document("w", "w.txt", text)
    assert doc.footnotes == (Footnote(label="7"),)
    assert any("[7]" in w and "no entry" in w for w in doc.warnings)
    assert "[7]" in caplog.text


def test_entry_without_marker_warns(caplog: pytest.LogCaptureFixture) -> None:
    text = "Title of a small document\n\nA claim.[1]\n\nNotes\n\n1. Used, Pub\n2. Unused, Pub\n"
    with caplog.at_level(logging.WARNING, logger="rag.documents"):
        doc = parse_document("u", "u.txt", text)
    assert [f.label for f in doc.footnotes] == ["1", "2"]
    assert any("[2]" in w and "no marker" in w for w in doc.warnings)
    assert "[2]" in caplog.text


def test_entry_defined_twice_keeps_the_first_and_warns() -> None:
    text = "Body.[1]\n\n[1] “First”, A, https://a.example\n[1] “Second”, B, https://b.example\n"
    doc = parse_document("t", "t.txt", text)
    assert [f.title for f in doc.footnotes] == ["First"]
    assert any("twice" in w for w in doc.warnings)


def test_marker_before_the_period_supports_only_its_own_sentence() -> None:
    # Russian typography puts the marker before the period: "claim[1]. Next claim[2]."
    text = "Заголовок документа для проверки\n\nПервое утверждение[1]. Второе утверждение[2].\n"
    doc = parse_document("p", "p.txt", text)
    assert _sentence_labels(doc, 1) == [
        ("Первое утверждение[1].", ["1"]),
        ("Второе утверждение[2].", ["2"]),
    ]


def test_quoted_title_with_gost_publisher_and_a_quoted_company_name() -> None:
    note = parse_entry(
        "4",
        "АО «Казгеология», «Итоги разведки литиевого пояса за 2023–2024 годы» // Годовой "
        "отчёт компании, 28.02.2025. URL: https://example.org/kazgeology/report",
    )
    assert note.title == "Итоги разведки литиевого пояса за 2023–2024 годы"
    assert note.publisher == "Годовой отчёт компании"
    assert note.url == "https://example.org/kazgeology/report"
