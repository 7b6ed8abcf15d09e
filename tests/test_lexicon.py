"""The corpus lexicon finds translations in the other languages, and only close ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.corpus.lexicon import Lexicon, lexicon_words, word_languages


def _unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_lexicon_words_are_content_words_of_four_letters_or_more() -> None:
    words = lexicon_words(["Путин направил пожелания здоровья и успехов в 2025 году."])
    assert "пожелания" in words and "здоровья" in words
    assert "и" not in words and "2025" not in words


def test_translations_cross_scripts_and_need_a_close_match() -> None:
    lexicon = Lexicon.build(
        ["пожелания", "желания", "wishes", "погода"],
        np.vstack([_unit(1, 0.1, 0), _unit(1, 0.2, 0), _unit(1, 0, 0), _unit(0, 0, 1)]),
    )
    [wish, weather] = lexicon.translations(
        ["wish", "weather"], np.vstack([_unit(1, 0, 0), _unit(0, 1, 0)])
    )
    assert "wish" not in " ".join(wish)  # a Latin neighbour ("wishes") is not a translation
    assert wish and all(stem.startswith(("пожелан", "желан")) for stem in wish)
    assert weather == frozenset()  # nothing close enough


def test_translations_cross_languages_in_one_script() -> None:
    """An English question over a Turkish text: both Latin, yet "fishers" is looked up
    among the Turkish words; an English neighbour is still no translation."""
    lexicon = Lexicon.build(
        ["balıkçılar", "fishermen", "tekne"],
        np.vstack([_unit(1, 0.1, 0), _unit(1, 0.05, 0), _unit(0, 0, 1)]),
        ["tr", "en", "tr"],
    )
    [fishers] = lexicon.translations(["fishers"], np.vstack([_unit(1, 0, 0)]), "en")
    assert fishers == frozenset({lexicon.stems[0]})
    [balik] = lexicon.translations(["balıkçı"], np.vstack([_unit(1, 0, 0)]), "tr")
    assert balik == frozenset({lexicon.stems[1]})


def test_a_word_has_the_language_of_the_sentences_using_it() -> None:
    texts = ["Trabzon limanında tekneler bekliyor.", "Trabzon balıkçıları", "Boats in Trabzon."]
    words = ["trabzon", "boats", "москва"]
    assert word_languages(words, texts, ["tr", "tr", "en"]) == ["tr", "en", "ru"]


def test_lexicon_round_trips_and_refuses_mismatched_files(tmp_path: Path) -> None:
    lexicon = Lexicon.build(
        ["слово", "kelime"], np.vstack([_unit(1, 0), _unit(0, 1)]), ["ru", "tr"]
    )
    lexicon.save(tmp_path)
    loaded = Lexicon.load(tmp_path, 2)
    assert loaded.words == ["слово", "kelime"] and loaded.languages == ["ru", "tr"]
    with pytest.raises(ValueError):
        Lexicon.load(tmp_path, 3)
    (tmp_path / "lexicon.json").write_text('["слово", "kelime"]', "utf-8")  # no languages
    with pytest.raises(ValueError):
        Lexicon.load(tmp_path, 2)
