"""Documents: the article's footnotes, scopes and boilerplate; loading files of every kind."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rag.corpus.chunking import split_sentences
from rag.corpus.documents import (
    Document,
    front_matter,
    load_documents,
    parse_document,
    read_text_file,
)
from rag.errors import DocumentError

ARTICLE_FOOTNOTES = {
    # label: (publisher, url, a word of the title)
    "i": ("CEPA", "https://cepa.org/article/putin-seeks-to-solve-his-azerbaijan-problem/", "Putin"),
    "ii": ("TASS", "https://tass.ru/politika/26005539", "Aliyev"),
    "iii": ("TASS", "https://tass.ru/politika/26006283", "Peskov"),
    "iv": (
        "Aze.Media",
        "https://aze.media/putin-calls-relations-with-azerbaijan-allied/",
        "allied",
    ),
    "v": (
        "Caucasus Watch",
        "https://caucasuswatch.de/en/news/azerbaijan-russia-and-iran-sign-trilateral-railway-memorandum.html",
        "Railway",
    ),
    "vi": (
        "OC Media",
        "https://oc-media.org/eus-russia-gas-exit-seen-boosting-bp-led-projects-in-azerbaijan/",
        "gas",
    ),
}


def _paragraph_with(doc: Document, needle: str) -> tuple[int, int]:
    found = [(s, e) for s, e in doc.paragraphs if needle in doc.text[s:e]]
    assert len(found) == 1, f"{needle!r} is in {len(found)} paragraphs"
    return found[0]


def _sentences_with_labels(doc: Document, needle: str) -> list[tuple[str, list[str]]]:
    start, end = _paragraph_with(doc, needle)
    return [(doc.text[s:e], doc.labels_in(s, e)) for s, e in split_sentences(doc.text, start, end)]


# -- the article -------------------------------------------------------------------------------


def test_article_has_all_six_footnotes_with_publisher_url_and_date(article_doc: Document) -> None:
    assert [f.label for f in article_doc.footnotes] == list(ARTICLE_FOOTNOTES)
    for note in article_doc.footnotes:
        publisher, url, title_word = ARTICLE_FOOTNOTES[note.label]
        assert note.publisher == publisher
        assert note.url == url
        assert title_word in note.title
        assert note.accessed == "24.12.2025"
        assert not note.title.startswith(("“", '"')), note.title
    assert article_doc.warnings == ()


def test_article_title_is_detected(article_doc: Document) -> None:
    assert article_doc.title == (
        "Российско-Азербайджанские Отношения в Тисках Асимметричной Взаимозависимости"
    )


def test_four_sentences_under_ii_then_one_under_iii(article_doc: Document) -> None:
    sentences = _sentences_with_labels(article_doc, "Это потепление")
    assert [labels for _, labels in sentences] == [["ii"]] * 4 + [["iii"]]
    assert sentences[3][0].endswith("контактов.[ii]")
    assert sentences[4][0].startswith("Этот диалог")
    assert sentences[4][0].endswith("странами.[iii]")


def test_sentence_after_the_last_marker_has_no_footnote(article_doc: Document) -> None:
    sentences = _sentences_with_labels(article_doc, "Эта коридорная политика")
    assert [labels for _, labels in sentences] == [["v"]] * 4 + [[]]
    assert sentences[-1][0].startswith("Эта коридорная политика")


def test_glued_marker_splits_between_the_sentences(article_doc: Document) -> None:
    sentences = _sentences_with_labels(article_doc, "сети.[v]Эта")
    texts = [text for text, _ in sentences]
    assert texts[-2].endswith("логистической сети.[v]")
    assert texts[-1].startswith("Эта коридорная")


def test_glued_marker_in_a_synthetic_document() -> None:
    text = "Заголовок короткой заметки\n\nОбъём достиг 5 миллионов тонн.[v]Эта цифра важна.\n"
    doc = parse_document("g", "g.txt", text)
    assert _sentences_with_labels(doc, "тонн.[v]Эта") == [
        ("Объём достиг 5 миллионов тонн.[v]", ["v"]),
        ("Эта цифра важна.", []),
    ]


def test_every_paragraph_of_a_footnoted_section_is_in_scope(article_doc: Document) -> None:
    # "[i]" follows a no-break space at the paragraph end; both sentences before it are under it.
    sentences = _sentences_with_labels(article_doc, "Потребность России")
    assert [labels for _, labels in sentences] == [["i"], ["i"]]


@pytest.mark.parametrize(
    "boilerplate",
    ["Paylaş", "Эта статья также доступна", "Похожие материалы", "Türkçe English"],
)
def test_boilerplate_is_left_out_of_paragraphs(article_doc: Document, boilerplate: str) -> None:
    assert boilerplate in article_doc.text  # still there: offsets refer to the original text
    assert not any(boilerplate in article_doc.text[s:e] for s, e in article_doc.paragraphs)


def test_repeated_author_line_appears_in_one_paragraph_only(article_doc: Document) -> None:
    assert article_doc.text.count("Ergün MAMEDOV") == 2
    holders = [
        (s, e) for s, e in article_doc.paragraphs if "Ergün MAMEDOV" in article_doc.text[s:e]
    ]
    assert len(holders) == 1
    s, e = holders[0]
    assert article_doc.text[s:e].count("Ergün MAMEDOV") == 1


def test_footnote_list_is_not_body_text(article_doc: Document) -> None:
    for s, e in article_doc.paragraphs:
        assert "Дата обращения" not in article_doc.text[s:e]
    for label, (s, e) in article_doc.entry_spans.items():
        assert ARTICLE_FOOTNOTES[label][1] in article_doc.text[s:e]


def test_paragraphs_are_trimmed_in_order_and_disjoint(article_doc: Document) -> None:
    previous_end = 0
    for s, e in article_doc.paragraphs:
        assert previous_end <= s < e
        piece = article_doc.text[s:e]
        assert piece == piece.strip()
        previous_end = e


def test_boilerplate_rules_on_other_languages() -> None:
    text = (
        "A title for a test document\n\n"
        "Share | Tweet | Email\n\n"
        "This article is also available in: Русский Türkçe\n\n"
        "The real paragraph stays.\n\n"
        "Related articles\n\n"
        "Some other story that is navigation.\n"
    )
    doc = parse_document("b", "b.txt", text)
    paragraphs = [doc.text[s:e] for s, e in doc.paragraphs]
    assert "The real paragraph stays." in paragraphs
    assert not any(
        word in p for p in paragraphs for word in ("Tweet", "also available", "navigation")
    )


# -- loading files -----------------------------------------------------------------------------


def _load(docs: Path) -> tuple[dict[str, Document], dict[str, str]]:
    documents, skipped = load_documents(docs)
    return {d.path: d for d in documents}, dict(skipped)


def test_loads_txt_md_and_html(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Plain text title here\n\nBody one. Body two.\n", "utf-8")
    (docs / "b.md").write_text("# Markdown Title\n\nSome *markdown* body text.\n", "utf-8")
    (docs / "c.html").write_text(
        "<html><head><title>HTML Page Title</title></head><body>"
        "<nav>Home | About | Contact</nav><article><h1>HTML Page Title</h1>"
        "<p>The first paragraph of the HTML article talks about railway memoranda between "
        "three countries in some detail.</p><p>The second paragraph continues with more "
        "details about tariffs and block trains across the region.</p></article>"
        "<footer>Copyright 2024 Example Corp</footer></body></html>",
        "utf-8",
    )
    loaded, skipped = _load(docs)
    assert skipped == {}
    assert {p: d.doc_id for p, d in loaded.items()} == {"a.txt": "a", "b.md": "b", "c.html": "c"}
    assert loaded["a.txt"].title == "Plain text title here"
    assert loaded["b.md"].title == "Markdown Title"
    html = loaded["c.html"]
    assert html.title == "HTML Page Title"
    assert "railway memoranda" in html.text
    assert "Home | About" not in html.text
    assert "Copyright" not in html.text


def test_html_paragraphs_stay_separate_for_the_scope_rule(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "page.html").write_text(
        "<html><head><title>Footnoted HTML page</title></head><body><article>"
        "<h1>Footnoted HTML page</h1>"
        "<p>The first paragraph makes a claim about railway memoranda without a source.</p>"
        "<p>The second paragraph makes a claim about tariffs and block trains.[1]</p>"
        "<h2>Notes</h2><p>[1] “Tariffs”, Caucasus Watch, https://cw.example/t</p>"
        "</article></body></html>",
        "utf-8",
    )
    (doc,), _ = load_documents(docs)
    first = "The first paragraph makes a claim about railway memoranda without a source."
    second = "The second paragraph makes a claim about tariffs and block trains.[1]"
    paragraphs = {doc.text[s:e]: (s, e) for s, e in doc.paragraphs}
    assert first in paragraphs
    assert second in paragraphs
    assert doc.labels_in(*paragraphs[first]) == []
    assert doc.labels_in(*paragraphs[second]) == ["1"]


def test_source_file_with_front_matter_becomes_a_source_document(
    tmp_corpus: Path, source_iii_text: str
) -> None:
    (tmp_corpus / "sources").mkdir()
    (tmp_corpus / "sources" / "iii.md").write_text(source_iii_text, "utf-8")
    loaded, _ = _load(tmp_corpus)
    source = loaded["sources/iii.md"]
    assert source.doc_id == "source-iii"
    assert source.is_source and source.source_label == "iii"
    assert source.source_url == "https://tass.ru/politika/26006283"
    assert source.title == "Песков назвал разговор Путина и Алиева очень теплым и нужным"
    body = [source.text[s:e] for s, e in source.paragraphs]
    assert body and body[0].startswith("Пресс-секретарь президента")
    assert not any(p.startswith(("---", "label:", "url:", "#")) for p in body)
    for s, e in source.paragraphs:
        assert source.labels_in(s, e) == ["iii"]
    assert source.footnotes == ()
    assert loaded["article.ru.txt"].doc_id == "article"


def test_source_file_without_front_matter_takes_its_label_from_the_name(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sources").mkdir(parents=True)
    (docs / "sources" / "IV.md").write_text("Saved by hand. It has no front matter.\n", "utf-8")
    loaded, _ = _load(docs)
    assert loaded["sources/IV.md"].source_label == "iv"
    assert loaded["sources/IV.md"].doc_id == "source-iv"


def test_windows_1251_file_is_decoded(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    text = "Заголовок в старой кодировке\n\nЭто текст в кодировке Windows-1251. Второе.\n"
    (docs / "old.txt").write_bytes(text.encode("cp1251"))
    loaded, skipped = _load(docs)
    assert skipped == {}
    assert loaded["old.txt"].text == text


def test_utf8_bom_is_dropped_and_crlf_offsets_stay_exact(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffЗаголовок\r\n\r\nПервое.[1] Второе.\r\n".encode())
    text = read_text_file(path)
    assert text.startswith("Заголовок")
    doc = parse_document("bom", "bom.txt", text)
    assert [doc.text[s:e] for s, e in doc.paragraphs] == ["Заголовок", "Первое.[1] Второе."]


def test_unusable_files_are_skipped_with_a_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("A secret outside the documents folder.\n", "utf-8")
    (docs / "good.txt").write_text("A good document title\n\nIt has text.\n", "utf-8")
    (docs / "binary.txt").write_bytes(b"\x00\x01\x02binary\x00data")
    (docs / "empty.txt").write_bytes(b"")
    (docs / "blank.md").write_text("  \n\n\t\n", "utf-8")
    (docs / "link.txt").symlink_to(outside)
    with caplog.at_level(logging.WARNING, logger="rag.corpus.documents"):
        loaded, skipped = _load(docs)
    assert list(loaded) == ["good.txt"]
    assert set(skipped) == {"binary.txt", "empty.txt", "blank.md", "link.txt"}
    assert "binary" in skipped["binary.txt"]
    assert "empty" in skipped["empty.txt"]
    assert "outside" in skipped["link.txt"]
    assert all(reason for reason in skipped.values())
    assert "link.txt" in caplog.text


def test_readme_hidden_files_and_other_suffixes_are_ignored(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / ".cache").mkdir(parents=True)
    (docs / "doc.txt").write_text("A document title here\n\nText.\n", "utf-8")
    (docs / "README.md").write_text("# About this folder\n\nPut documents here.\n", "utf-8")
    (docs / ".hidden.txt").write_text("Hidden text.\n", "utf-8")
    (docs / ".cache" / "x.txt").write_text("Cached text.\n", "utf-8")
    (docs / "data.json").write_text('{"a": 1}', "utf-8")
    loaded, skipped = _load(docs)
    assert list(loaded) == ["doc.txt"]
    assert skipped == {}


def test_same_stem_in_two_files_gets_two_ids(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "report.txt").write_text("Text one here.\n", "utf-8")
    (docs / "report.md").write_text("Text two here.\n", "utf-8")
    documents, _ = load_documents(docs)
    assert len({d.doc_id for d in documents}) == 2


def test_missing_docs_folder_is_a_document_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="does not exist"):
        load_documents(tmp_path / "nope")


@pytest.mark.parametrize(
    "text",
    [
        # A markdown definition continued on an indented line.
        "# T\n\nTrade grew.[^1] Ports grew.[^2]\n\n"
        '[^1]: Smith, "Trade",\n    Reuters, https://example.org/a\n'
        '[^2]: Jones, "Ports", FT, https://example.org/b\n',
        # HTML superscripts, as converters write them, and a "References" list.
        "# T\n\nTrade grew.<sup>1</sup> Ports grew.<sup>[2]</sup>\n\n## References\n\n"
        '1. Smith, "Trade", Reuters, https://example.org/a\n'
        '2. Jones, "Ports", FT, https://example.org/b\n',
        # A Russian "Список источников" with GOST-style entries.
        "Т\n\nTrade grew [1]. Ports grew [2].\n\nСписок источников\n\n"
        "1. Smith J. «Trade» // Reuters. 2024. URL: https://example.org/a\n"
        "2. Jones K. «Ports» // FT. 2024. URL: https://example.org/b\n",
    ],
    ids=["markdown-continued-definition", "html-sup", "spisok-istochnikov"],
)
def test_other_footnote_forms(text: str) -> None:
    doc = parse_document("a", "a.md", text)
    notes = {f.label: (f.title, f.publisher, f.url) for f in doc.footnotes}
    assert notes == {
        "1": ("Trade", "Reuters", "https://example.org/a"),
        "2": ("Ports", "FT", "https://example.org/b"),
    }
    scopes = {s.label: text[s.start : s.end].rstrip(".") for s in doc.scopes}
    assert scopes == {"1": "Trade grew", "2": "Ports grew"}
    assert not doc.warnings


# -- front matter ------------------------------------------------------------------------------

TOML_POST = """\
+++
title = "Why Ports Grow"
date = 2024-03-01T10:00:00Z
tags = ["ports", "trade"]

[params]
author = "Ann Lee"
+++

Ports grew fast.[^1] Trade followed.

[^1]: https://example.com/ports
"""

YAML_POST = """\
---
title: "Limanlar neden büyür?"
date: 2024-03-02
description: >
  A summary that
  must not be indexed.
tags:
  - ports
---

Limanlar hızla büyüdü.[^1] Ticaret arttı.

[^1]: https://example.com/limanlar
"""


@pytest.mark.parametrize(
    ("text", "title", "date", "first_paragraph"),
    [
        (TOML_POST, "Why Ports Grow", "2024-03-01T10:00:00Z",
         "Ports grew fast.[^1] Trade followed."),
        (YAML_POST, "Limanlar neden büyür?", "2024-03-02",
         "Limanlar hızla büyüdü.[^1] Ticaret arttı."),
    ],
    ids=["toml", "yaml"],
)  # fmt: skip
def test_front_matter_gives_title_and_date_and_is_never_text(
    text: str, title: str, date: str, first_paragraph: str
) -> None:
    doc = parse_document("p", "p.md", text)
    assert (doc.title, doc.date) == (title, date)
    assert doc.text == text  # offsets stay those of the file
    body_start = text.index(text[:4], 4) + 4  # after the closing fence
    assert all(s >= body_start for s, _ in doc.paragraphs)
    assert [text[s:e] for s, e in doc.paragraphs] == [first_paragraph]
    assert [f.label for f in doc.footnotes] == ["1"]
    assert doc.labels_in(*doc.paragraphs[0]) == ["1"]


def test_front_matter_reader() -> None:
    meta, body = front_matter(TOML_POST)
    assert meta == {
        "title": "Why Ports Grow",
        "date": "2024-03-01T10:00:00Z",
        "tags": "",
        "author": "Ann Lee",
    }
    assert TOML_POST[body:].startswith("\nPorts grew fast.")
    meta, _ = front_matter(YAML_POST)
    assert meta["description"] == "A summary that must not be indexed."


@pytest.mark.parametrize(
    "text",
    [
        "---\nA document that opens with a rule, then prose.\n---\n\nMore prose.\n",
        "---\ntitle: never closed\n\nBody text.\n",
        "Body first.\n---\ntitle: not at the top\n---\n",
    ],
    ids=["rule-then-prose", "unclosed", "not-at-the-top"],
)
def test_what_is_not_front_matter_stays_text(text: str) -> None:
    assert front_matter(text) == ({}, 0)
    doc = parse_document("p", "p.md", text)
    assert any("Body" in doc.text[s:e] or "prose" in doc.text[s:e] for s, e in doc.paragraphs)
