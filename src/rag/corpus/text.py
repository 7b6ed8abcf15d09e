"""Language-aware text helpers shared by indexing, retrieval and answer checking.

Words are stemmed by script: Cyrillic with the Russian Snowball stemmer, Latin with the
English one (Turkish-looking words with the Turkish one), so "отношения"/"отношений" and
"relations"/"relation" meet in BM25 and in support checks.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

from rag.models import CITATION_MARKER

__all__ = [
    "FOOTNOTE_MARKER",
    "MD_LINK",
    "WORD",
    "content_stems",
    "content_words",
    "detect_language",
    "is_cyrillic",
    "is_heading",
    "numbers",
    "question_words",
    "search_terms",
    "skeleton",
    "stem_tokens",
    "strip_markers",
]

# A document's footnote marker in running text: "[iii]", "[12]", "[^3]", a named "[^costs]"
# (letters, digits, "-", "_": only with the caret, so "[a]" or "[note]" is no marker), and
# HTML "<sup>3</sup>". Not a markdown link "[3](url)".
FOOTNOTE_MARKER = re.compile(
    r"(?:\[|<sup>\s*\[?)(?P<caret>\^)?"
    r"(?P<label>\d{1,3}|[ivxlcdm]{1,7}|(?(caret)\w[\w-]{0,39}|(?!)))"
    r"(?:\]?\s*</sup>|\](?!\())",
    re.IGNORECASE,
)
WORD = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
# A short ending after an apostrophe is a case suffix or a clitic, not part of the word:
# Turkish "NATO'nun", "Denizi'nde", English "EU's". A longer one is a name: "O'Brien".
_SUFFIX = re.compile(r"['’]\w{1,4}$")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_TURKISH_CHARS = re.compile(r"[ğışİĞŞ]")
_TURKISH_HINTS = frozenset(
    "ve bir bu ne nedir kim kimdir hangi nasıl neden niçin için ile mi mı mu mü da de "
    "olarak olan ile göre kaç ne zaman nerede".split()
)

_STOPWORDS = frozenset(
    # Russian
    "и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только "
    "ее её мне было вот от меня еще ещё нет о из ему теперь когда даже ну вдруг ли если уже или "
    "ни быть был него до вас нибудь опять уж вам ведь там потом себя ничего ей может они тут "
    "где есть надо ней для мы тебя их чем была сам чтоб без будто чего раз тоже себе под будет "
    "ж тогда кто этот того потому этого какой совсем ним здесь этом один почти мой тем чтобы "
    "нее сейчас были куда зачем всех никогда можно при наконец два об другой хоть после над "
    "больше тот через эти нас про всего них какая много разве три эту моя впрочем хорошо свою "
    "этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю между это также "
    "является какие каким какую каков какова каково которые который которая которое "
    "сколько почему откуда чей чья чьё чьи ли "
    # English
    "a an the and or of to in on at for from by with about as is are was were be been being "
    "do does did what which who whom whose when where why how that this these those it its "
    "there their they them he she his her we our you your i me my not no yes than then so "
    "into over under between besides mentioned article according many much "
    # Turkish
    "ve bir bu şu ne nedir kim kimdir hangi nasıl neden için ile mi mı mu mü da de olarak "
    "olan göre kaç zaman nerede kadar olacak oldu olur olduğu var yok daha çok "
    "hakkında tarafından".split()
)


@lru_cache(maxsize=4)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(language)


def _language_of_word(word: str) -> str:
    if _CYRILLIC.search(word):
        return "russian"
    if _TURKISH_CHARS.search(word):
        return "turkish"
    return "english"


def words_of(text: str) -> list[str]:
    """The words of ``text``, as written, less an apostrophe suffix ("NATO'nun" -> "NATO")."""
    return [_SUFFIX.sub("", m.group()) for m in WORD.finditer(text)]


def stem_tokens(text: str, *, drop_stopwords: bool = False) -> list[str]:
    """Lower-cased words of ``text``, each stemmed by its own script."""
    out: list[str] = []
    for word in words_of(text.lower()):
        if drop_stopwords and word in _STOPWORDS:
            continue
        out.append(_stemmer(_language_of_word(word)).stemWord(word))
    return out


def content_stems(text: str) -> set[str]:
    """The stems of the words that carry meaning (no stopwords, no one-letter words)."""
    return {s for s in stem_tokens(text, drop_stopwords=True) if len(s) > 1 or s.isdigit()}


def numbers(text: str) -> set[str]:
    """Numbers written in ``text``, normalised ("5,5" and "5.5" are equal)."""
    return {n.replace(",", ".") for n in _NUMBER.findall(text)}


# Cross-script name matching: "Mehriban Aliyeva" in a question, "Мехрибан Алиевой" in the
# text. Both reduce to a consonant skeleton ("mhrb", "alv") after transliteration.
_CYR_TO_LAT = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ё": "e",
        "ж": "j",
        "з": "z",
        "и": "i",
        "й": "y",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "h",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "sh",
        "ъ": "",
        "ы": "y",
        "ь": "",
        "э": "e",
        "ю": "yu",
        "я": "ya",
        "ş": "sh",
        "ç": "ch",
        "ğ": "",
        "ı": "i",
        "ö": "o",
        "ü": "u",
        "â": "a",
        "î": "i",
        "û": "u",
        "é": "e",
        "è": "e",
        "ä": "a",
    }
)
_DIGRAPHS = (
    ("dzh", "j"),
    ("dj", "j"),
    ("zh", "j"),
    ("kh", "h"),
    ("ph", "f"),
    ("w", "v"),
    ("q", "k"),
    ("c", "k"),
    ("x", "ks"),
)
_VOWELS = frozenset("aeiouy")


def skeleton(word: str) -> str:
    """A script-independent key of a name: first letter, then up to 3 consonants."""
    latin = word.lower().translate(_CYR_TO_LAT)
    for a, b in _DIGRAPHS:
        latin = latin.replace(a, b)
    latin = "".join(ch for ch in latin if "a" <= ch <= "z")
    if not latin:
        return ""
    out = latin[0]
    for ch in latin[1:]:
        if ch not in _VOWELS and ch != out[-1]:
            out += ch
    return out[:4]


def _name_key(word: str) -> str:
    """``~skeleton`` of a word long enough for its skeleton to mean something, else ""."""
    key = skeleton(word) if len(word) >= 4 and word.lower() not in _STOPWORDS else ""
    return "~" + key if len(key) >= 3 else ""


def search_terms(text: str) -> list[str]:
    """BM25 and coverage terms of a text (passage or question): word stems, plus a skeleton
    ``~key`` for each longer word.

    Skeletons let names and international words ("Kremlin"/"Кремля", "corridor"/"коридоре")
    meet across scripts.
    """
    terms = stem_tokens(text, drop_stopwords=True)
    terms += [key for word in words_of(text) if (key := _name_key(word))]
    return terms


def content_words(text: str) -> list[str]:
    """The lower-cased words of ``text`` that carry meaning (no stopwords, no single letters)."""
    return [
        w for w in words_of(text.lower()) if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())
    ]


def full_names(text: str) -> list[list[tuple[str, str]]]:
    """The names of ``text`` of two words or more ("Ирина Соколовская", "Carrow Valley
    Diabetes Network"): runs of capitalised words apart only by spaces, each word as a
    (stem, ``~skeleton``) pair, stopwords left out ("The", «В» at the start of a sentence)."""
    runs: list[list[str]] = []
    end = -1
    for match in WORD.finditer(text):
        word = match.group()
        if not word[:1].isupper():
            end = -1
            continue
        if end >= 0 and text[end : match.start()].isspace():
            runs[-1].append(word)
        else:
            runs.append([word])
        end = match.end()
    pairs = (question_words(" ".join(run)) for run in runs)
    return [run for run in pairs if len(run) >= 2]


def question_words(text: str) -> list[tuple[str, str]]:
    """The question's content words as (stem, ``~skeleton``) pairs, one pair a word."""
    return [(_stemmer(_language_of_word(w)).stemWord(w), _name_key(w)) for w in content_words(text)]


# A short line without closing punctuation is a heading: "Pasta recipes", "Анализ", a byline.
HEADING_WORDS = 12
_CLOSERS = (".", "!", "?", "…", ";", ":", ")", "»", "”", '"', "]")


def is_heading(text: str) -> bool:
    """Whether ``text`` reads as a title (it names a topic, it answers nothing)."""
    return len(strip_markers(text).split()) < HEADING_WORDS and not text.rstrip().endswith(_CLOSERS)


def is_cyrillic(text: str) -> bool:
    """Whether most letters of ``text`` are Cyrillic."""
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and 2 * sum(1 for ch in letters if _CYRILLIC.match(ch)) >= len(letters)


# Quoted spans: a title or a phrase cited in another language says nothing about the
# language the question is asked in. Straight single quotes are left alone (apostrophes).
_QUOTED = re.compile(r"«[^»]*»|“[^”]*”|„[^“”]*[“”]|‘[^’]*’|\"[^\"]*\"")


def detect_language(text: str) -> str:
    """A best guess among "ru", "tr" and "en" (the languages answers are written in).

    Quoted spans are ignored, and function words ("что", "о", "the", "ve") outvote the
    letters of names and titles: «Что пишет Reuters о Russia and Azerbaijan?» is Russian,
    "Who is Рашад Набиев?" is not.
    """
    unquoted = _QUOTED.sub(" ", text)
    if any(ch.isalpha() for ch in unquoted):
        text = unquoted
    if _asked_in_russian(text):
        return "ru"
    lowered = text.lower()
    if _TURKISH_CHARS.search(text) or re.search(r"[çöü]", lowered):
        return "tr"
    if any(w in _TURKISH_HINTS for w in WORD.findall(lowered)):
        return "tr"
    return "en"


def _asked_in_russian(text: str) -> bool:
    """More Russian than Latin-script function words; on a tie, most letters Cyrillic."""
    russian = latin = 0
    for word in WORD.findall(text.lower()):
        if word in _STOPWORDS:
            if _CYRILLIC.search(word):
                russian += 1
            else:
                latin += 1
    return russian > latin if russian != latin else is_cyrillic(text)


def strip_markers(text: str) -> str:
    """``text`` without the document's own footnote markers (and the space they leave), and
    with markdown links reduced to their text (a "[3](url)" must not read as a citation)."""
    spaced = FOOTNOTE_MARKER.sub(" ", MD_LINK.sub(r"\g<text>", text))
    # Any other bracketed number ("[2019]") would read as a citation marker: "(2019)".
    spaced = CITATION_MARKER.sub(r"(\1)", spaced)
    return _SPACE_BEFORE_PUNCT.sub(r"\1", re.sub(r"[ \t]{2,}", " ", spaced)).strip()


# A markdown link: "[text](url)", "[text](url_(with)_parens)", "[text](<url with spaces>)",
# "[text](url "title")" or 'title'; the URL may be empty ("[text]()").
MD_LINK = re.compile(
    r"\[(?P<text>[^\]\n]+)\]\(\s*(?:<(?P<angled>[^<>\n]*)>|(?P<url>(?:[^()\s]|\([^()\s]*\))*))"
    r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)",
)
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([.,;:!?…)»”])")
