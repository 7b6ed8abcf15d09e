"""Footnotes: entries in the forms real documents use, markers, and the scope rule."""

from __future__ import annotations

import logging

import pytest

from rag.corpus.chunking import split_sentences
from rag.corpus.documents import Document, parse_document
from rag.corpus.footnote_entries import merge_entries
from rag.corpus.footnotes import find_markers, parse_entry, scopes_of_paragraph
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


def test_entry_with_only_a_url_takes_title_from_its_path_and_publisher_from_its_host() -> None:
    note = parse_entry("6", "https://www.example.org/blog/only-a-link.html")
    assert note.url == "https://www.example.org/blog/only-a-link.html"
    assert (note.title, note.publisher) == ("Only a link", "example.org")


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
    with caplog.at_level(logging.WARNING, logger="rag.corpus.documents"):
        doc = parse_document("w", "w.txt", text)
    assert doc.footnotes == (Footnote(label="7"),)
    assert any("[7]" in w and "no entry" in w for w in doc.warnings)
    assert "[7]" in caplog.text


def test_entry_without_marker_warns(caplog: pytest.LogCaptureFixture) -> None:
    text = "Title of a small document\n\nA claim.[1]\n\nNotes\n\n1. Used, Pub\n2. Unused, Pub\n"
    with caplog.at_level(logging.WARNING, logger="rag.corpus.documents"):
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


# -- issue 12: footnotes as real documents write them ------------------------------------------


def _labels_by_sentence(text: str, path: str = "a.md") -> list[tuple[str, list[str]]]:
    doc = parse_document("a", path, text)
    return [
        (doc.text[s:e], doc.labels_in(s, e))
        for p_start, p_end in doc.paragraphs
        for s, e in split_sentences(doc.text, p_start, p_end)
    ]


def test_named_labels_are_markers_only_with_the_caret() -> None:
    text = (
        "Costs rose[^costs] and[^QNX-2_b] fell. A list [a], a [note], a link [^x](https://e.org)."
    )
    assert [m.label for m in find_markers(text, 0, len(text))] == ["costs", "qnx-2_b"]


def test_named_definitions_in_alphabetical_order_with_every_kind_of_url() -> None:
    text = (
        "# Safety\n\nCertification costs a lot.[^costs] The kernel is small.[^qnx] "
        "Coverage is strict.[^mcdc]\n\n"
        '[^costs]: Ann Lee, "What Certification Costs", Avionics Weekly, '
        "<https://avionics.example/costs>\n"
        "[^mcdc]: [MC/DC explained](https://testing.example/mcdc), Testing Journal.\n"
        '[^qnx]: Bob Ray, "A Small Kernel", Systems Review, https://systems.example/qnx\n'
    )
    doc = parse_document("a", "a.md", text)
    assert {f.label: (f.title, f.publisher, f.url) for f in doc.footnotes} == {
        "costs": ("What Certification Costs", "Avionics Weekly", "https://avionics.example/costs"),
        "mcdc": ("MC/DC explained", "Testing Journal", "https://testing.example/mcdc"),
        "qnx": ("A Small Kernel", "Systems Review", "https://systems.example/qnx"),
    }
    assert [labels for _, labels in _labels_by_sentence(text)] == [["costs"], ["qnx"], ["mcdc"]]
    assert doc.warnings == ()


def test_named_definition_continued_on_indented_lines() -> None:
    text = (
        "# Report\n\nThe claim.[^long-note]\n\n"
        '[^long-note]: Jane Doe, "A Long Title",\n'
        "    Science Weekly,\n"
        "\thttps://sci.example/long\n"
        "The next paragraph is body text again.\n"
    )
    doc = parse_document("a", "a.md", text)
    (note,) = doc.footnotes
    assert (note.title, note.publisher, note.url) == (
        "A Long Title",
        "Science Weekly",
        "https://sci.example/long",
    )
    start, end = doc.entry_spans["long-note"]
    assert text[start:end].endswith("https://sci.example/long")
    assert "The next paragraph is body text again." in [text[s:e] for s, e in doc.paragraphs]


def test_markers_mid_sentence_each_support_the_words_before_them() -> None:
    text = "It was built layer[^4] after layer[^5] of review. Then it shipped."
    assert _scoped(text) == {"4": "It was built layer", "5": "after layer"}
    assert _labels_by_sentence("# T\n\n" + text) == [
        ("It was built layer[^4] after layer[^5] of review.", ["4", "5"]),
        ("Then it shipped.", []),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("First claim.[^1][^2] Second claim.", [["1", "2"], []]),
        ("First claim.[3][4] Second claim.", [["3", "4"], []]),
        ("First claim[^1] [^2]. Second claim.", [["1", "2"], []]),
        ("Ребенок пошёл в школу[^1]. Он учился[^2].", [["1"], ["2"]]),
        ("First claim.[1] Second claim.[2]", [["1"], ["2"]]),
        ("First claim. [1] Second claim. [2]", [["1"], ["2"]]),
    ],
    ids=["chained-caret", "chained-plain", "chained-spaced", "before-stop", "after-stop", "space"],
)
def test_markers_chained_and_before_or_after_the_full_stop(
    body: str, expected: list[list[str]]
) -> None:
    assert [labels for _, labels in _labels_by_sentence("# T\n\n" + body)] == expected


def test_a_list_item_is_its_own_scope_unit() -> None:
    text = (
        "# T\n\nOperators proposed three measures:\n"
        "- a second repair ship[^1];\n"
        "- a stockpile of spare cable;\n"
        "  kept in Jeddah[^2];\n"
        "1. fast permits.\n"
        "None of them is funded.[^3]\n"
    )
    assert _labels_by_sentence(text) == [
        ("Operators proposed three measures:", []),
        ("a second repair ship[^1];", ["1"]),
        ("a stockpile of spare cable;\n  kept in Jeddah[^2];", ["2"]),
        ("fast permits.", []),
        ("None of them is funded.[^3]", ["3"]),
    ]


def test_a_quote_line_is_its_own_scope_unit() -> None:
    text = "# T\n\nThe minister said:\n> We will build it.[1]\n> It will cost less.\n"
    assert _labels_by_sentence(text) == [
        ("The minister said:", []),
        ("We will build it.[1]", ["1"]),
        ("It will cost less.", []),
    ]


def test_a_marker_on_a_line_of_its_own_supports_the_unit_above_only() -> None:
    text = "# T\n\nThe paragraph before the list.\n- first item\n- second item\n[1]\n"
    assert _labels_by_sentence(text) == [
        ("The paragraph before the list.", []),
        ("first item", []),
        ("second item\n[1]", ["1"]),
    ]


@pytest.mark.parametrize(
    ("url", "title", "publisher"),
    [
        ("https://www.example.com/blog/why-ports-grow.html", "Why ports grow", "example.com"),
        ("https://news.example.org/world/caspian_trade_routes/", "Caspian trade routes",
         "news.example.org"),
        ("https://tass.ru/politika/26005539", "Politika", "tass.ru"),
        ("https://example.org/docs/Annual%20Report%202024.pdf", "Annual Report 2024",
         "example.org"),
        ("https://example.org/", "example.org", "example.org"),
    ],
)  # fmt: skip
def test_bare_url_entry_reads_title_from_the_path_and_publisher_from_the_host(
    url: str, title: str, publisher: str
) -> None:
    note = parse_entry("1", url)
    assert (note.url, note.title, note.publisher) == (url, title, publisher)


@pytest.mark.parametrize(
    ("body", "url"),
    [
        ("https://en.wikipedia.org/wiki/Baku_(city).", "https://en.wikipedia.org/wiki/Baku_(city)"),
        ("(see https://example.org/a)", "https://example.org/a"),
        ("[Baku](https://en.wikipedia.org/wiki/Baku_(city)), Wikipedia", "https://en.wikipedia.org/wiki/Baku_(city)"),
        ("<https://example.org/annual report.pdf>", "https://example.org/annual%20report.pdf"),
        ("[Report](<https://example.org/annual report.pdf>)", "https://example.org/annual%20report.pdf"),
        ("https://example.org/annual report.pdf, accessed 2024", "https://example.org/annual%20report.pdf"),
        ("https://example.org/page and/or more words", "https://example.org/page"),
    ],
)  # fmt: skip
def test_urls_with_parentheses_or_spaces(body: str, url: str) -> None:
    assert parse_entry("1", body).url == url


@pytest.mark.parametrize(
    "body",
    [
        'https://example.org/r/1 "The Real Title"',
        "https://example.org/r/1 'The Real Title'",
        "<https://example.org/r/1> (The Real Title)",
    ],
)
def test_link_reference_definition_title(body: str) -> None:
    note = parse_entry("1", body)
    assert (note.url, note.title) == ("https://example.org/r/1", "The Real Title")


@pytest.mark.parametrize(
    "heading",
    ["# KAYNAKÇA", "## Kaynaklar", "### dipnotlar", "DİPNOTLAR", "Литература", "#### ССЫЛКИ",
     "Sources", "Footnotes:", "**Bibliography**", "## Notes and References ##", "Примечания"],
)  # fmt: skip
def test_footnote_list_headings_in_any_language_level_and_case(heading: str) -> None:
    text = (
        f"Bir başlık burada yazıyor\n\nLiman büyüdü.[1] Ticaret arttı.[2]\n\n{heading}\n\n"
        "1. https://example.com/liman-buyudu\n2) https://example.com/ticaret\n"
    )
    doc = parse_document("a", "a.md", text)
    assert {f.label: f.url for f in doc.footnotes} == {
        "1": "https://example.com/liman-buyudu",
        "2": "https://example.com/ticaret",
    }
    assert not any("example.com" in text[s:e] for s, e in doc.paragraphs)
    assert doc.warnings == ()


def test_same_source_listed_twice_is_one_footnote_with_the_written_title() -> None:
    text = (
        "# Ports\n\nPorts grew.[1] Trade grew.[2]\n\n## Sources\n\n"
        "1. https://example.com/ports-grow\n"
        "2. https://example.com/trade/\n\n"
        '[1]: https://example.com/ports-grow "Why Ports Grow"\n'
        "[2]: https://example.com/trade\n"
    )
    doc = parse_document("a", "a.md", text)
    assert [(f.label, f.title, f.publisher, f.url) for f in doc.footnotes] == [
        ("1", "Why Ports Grow", "example.com", "https://example.com/ports-grow"),
        ("2", "Trade", "example.com", "https://example.com/trade/"),
    ]
    # The entry quoted for [1] is the one that names the title.
    start, end = doc.entry_spans["1"]
    assert "Why Ports Grow" in text[start:end]
    assert doc.warnings == ()


def test_merge_keeps_what_is_written_and_refuses_different_urls() -> None:
    bare = parse_entry("1", "https://example.com/ports-grow")
    titled = parse_entry("1", '"Ports Grow", Globe, https://example.com/ports-grow')
    assert merge_entries(bare, titled) == Footnote("1", "Ports Grow", "Globe", titled.url)
    assert merge_entries(titled, bare) == Footnote("1", "Ports Grow", "Globe", titled.url)
    assert merge_entries(bare, parse_entry("1", "https://other.example/x")) is None


def test_many_unused_definitions_give_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    text = "# A blog post\n\nOne claim.[^used]\n\n[^used]: https://example.org/used\n" + "".join(
        f"[^ref{n}]: https://example.org/reference-{n}\n" for n in range(40)
    )
    with caplog.at_level(logging.WARNING, logger="rag.corpus.documents"):
        doc = parse_document("a", "a.md", text)
    assert len(caplog.records) == 1
    (warning,) = doc.warnings
    assert "40 footnotes" in warning and "[ref0]" in warning and "no marker" in warning
    assert len(warning) < 200
    assert doc.footnote_counts() == {"found": 41, "used": 1, "unused": 40, "missing": 0}
