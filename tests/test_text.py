"""Text helpers: footnote markers, stemming by script, name keys, language and abstention text."""

from __future__ import annotations

import pytest

from rag.corpus.text import (
    FOOTNOTE_MARKER,
    content_stems,
    content_words,
    detect_language,
    is_cyrillic,
    numbers,
    search_terms,
    skeleton,
    stem_tokens,
    strip_markers,
)
from rag.models import not_covered_message


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("контактов.[ii] Этот", ["ii"]),
        ("тонн.[v]Эта", ["v"]),
        ("claim[12] and claim[^3].", ["12", "3"]),
        ("back to back[1][2].", ["1", "2"]),
        ("see [1](http://example.com/x) for more", []),
        ("a list [a] or [note] is not a marker", []),
        ("a year [2024] has four digits", []),
    ],
)
def test_footnote_marker_finds_document_markers_only(text: str, labels: list[str]) -> None:
    assert [m.group("label") for m in FOOTNOTE_MARKER.finditer(text)] == labels


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("контактов.[ii] Этот диалог", "контактов. Этот диалог"),
        ("тонн.[v]Эта политика", "тонн. Эта политика"),
        ("claim [1][2].", "claim."),
        ("Claim two follows[^2].", "Claim two follows."),
        ("Баку. [i]", "Баку."),
        ("no markers here", "no markers here"),
    ],
)
def test_strip_markers_removes_markers_and_the_space_they_leave(text: str, expected: str) -> None:
    assert strip_markers(text) == expected


def test_strip_markers_reduces_markdown_links_to_their_text() -> None:
    # a "[1](url)" left in a quote would read as citation [1]
    assert strip_markers("see [1](http://example.com/x).") == "see 1."


def test_inflected_russian_forms_share_a_stem() -> None:
    assert stem_tokens("отношения") == stem_tokens("отношений")
    assert stem_tokens("relations") == stem_tokens("relation")


def test_words_are_stemmed_by_their_own_script() -> None:
    mixed = stem_tokens("Отношения relations")
    assert mixed == [*stem_tokens("отношения"), *stem_tokens("relations")]


def test_content_stems_drop_stopwords_and_one_letter_words() -> None:
    stems = content_stems("Что и как в the article of Baku?")
    assert stems == set(stem_tokens("Baku"))


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [("Aliyeva", "Алиевой"), ("Mehriban", "Мехрибан"), ("Peskov", "Песковым")],
)
def test_names_meet_across_scripts(latin: str, cyrillic: str) -> None:
    assert skeleton(latin) == skeleton(cyrillic)
    assert "~" + skeleton(latin) in search_terms(f"Who is {latin}?")
    assert "~" + skeleton(cyrillic) in search_terms(f"встреча с {cyrillic} прошла")


def test_numbers_are_normalised() -> None:
    assert numbers("5,5 млн и 2028 год") == {"5.5", "2028"}
    assert numbers("5.5 million") & numbers("5,5 миллиона") == {"5.5"}


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Как Песков охарактеризовал разговор?", "ru"),
        ("What did the Kremlin press service say?", "en"),
        ("Azerbaycan ulaştırma bakanı 2028 için hangi yük hedefini koydu?", "tr"),
        ("Bakü nerede?", "tr"),
        ("Kim Aliyev?", "tr"),
        ("Who is Aliyev?", "en"),
    ],
)
def test_detect_language(question: str, language: str) -> None:
    assert detect_language(question) == language


@pytest.mark.parametrize(
    ("question", "language"),
    [
        # issue 13: a Russian question quoting an English title was answered in English
        ("Какой источник опубликовал «Putin calls relations with Azerbaijan ‘allied’»?", "ru"),
        ('Кто написал "Putin calls relations with Azerbaijan allied"?', "ru"),
        ("Что пишет Reuters о Russia and Azerbaijan relations?", "ru"),
        ("Which outlet published «Песков назвал разговор Путина и Алиева очень теплым»?", "en"),
        ("Who is Рашад Набиев?", "en"),
        ("«Putin calls relations with Azerbaijan allied»", "en"),
    ],
)
def test_detect_language_goes_by_the_words_asking_not_the_quoted_title(
    question: str, language: str
) -> None:
    assert detect_language(question) == language


def test_is_cyrillic_uses_the_majority_of_letters() -> None:
    assert is_cyrillic("Путин и Aliyev встретились")
    assert not is_cyrillic("Putin and Алиев met today")
    assert not is_cyrillic("12345 ?!")


def test_not_covered_message_is_in_the_question_language_with_english_fallback() -> None:
    ru, en, tr = (not_covered_message(lang) for lang in ("ru", "en", "tr"))
    assert is_cyrillic(ru)
    assert "documents" in en
    assert "belge" in tr
    assert len({ru, en, tr}) == 3
    assert not_covered_message("de") == en


def test_apostrophe_suffixes_are_not_part_of_the_word() -> None:
    """Turkish case endings and English clitics after an apostrophe; names keep theirs."""
    assert content_words("NATO'nun Denizi'nde Hovd'dan EU's O'Brien") == [
        "nato",
        "denizi",
        "hovd",
        "eu",
        "o'brien",
    ]
