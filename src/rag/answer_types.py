"""What kind of answer a question asks for, and whether a sentence holds one.

"How much did it cost?" wants a sum of money; "how many", "сколько", "kaç" want a number;
"what date", "в каком году" a date; "when", "когда", "ne zaman" probably a time. A sentence
that names the topic but holds no such thing does not answer the question: the
expected-answer-type check of classic extractive QA.

Two strengths: a question that can only be answered by a figure or a date (:data:`STRICT`)
is never answered by a sentence without one; a looser ask ("how much", "насколько", "ne
kadar" can also mean "to what extent"; "when" can be "after the elections") only prefers
the sentences that hold one.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["STRICT", "AnswerType", "expected_type", "types_in"]


class AnswerType(StrEnum):
    MONEY = "money"  # a sum: "1.6 billion euros", "86 миллионов долларов"
    COUNT = "count"  # a number: "how many", "сколько", "kaç", "what percentage"
    AMOUNT = "amount"  # probably a number: "how much", "насколько", "ne kadar", "how long"
    DATE = "date"  # a date or a year: "what date", "в каком году", "hangi yıl"
    TIME = "time"  # probably one: "when", "когда", "ne zaman"
    NAME = "name"  # probably a name the question does not hold: "who", "кто", "kim"


STRICT = frozenset({AnswerType.MONEY, AnswerType.COUNT, AnswerType.DATE})

_FLAGS = re.IGNORECASE | re.UNICODE
_WHY = re.compile(r"^\W*(why|how come|почему|зачем|отчего|neden|niçin|niye)\b", _FLAGS)
_MONEY_ASK = re.compile(
    r"\b(cost|costs|costing|price|priced|spend|spent|how much money|budget of|потрат\w*|"
    r"сколько (\w+ )?сто(ит|ил|ила|ило|или)|стоимост\w*|обош[её]л\w*|обошл\w*|обойд[её]тся|"
    r"цен[аыу]\b|сколько денег|во сколько (\w+ )?оцени\w*|maliyet\w*|fiyat\w*|kaça mal|"
    r"kadara mal)",
    _FLAGS,
)
# A money word asks for a sum only beside a how-much ask ("how much did it cost", «сколько
# стоит», "ne kadar"); alone it names what the question is about ("What weight did price get
# in the tender?", «Какой вес получила цена»), which asks at most for some figure.
_HOW_MUCH = re.compile(r"\b(how much|сколько|ne kadar|kaça)", _FLAGS)
# "What was the price of the ambulance?", «Какова стоимость проекта?»: the money word is what
# is asked for, as much as after "how much".
_MONEY_WANTED = re.compile(
    r"\b((what|which) (is|was|were|will be|would be) the (\w+ )?(price|cost|fee|rent|value|"
    r"budget)|каков\w* (\w+ )?(стоимость|цена|сумма|бюджет))\b",
    _FLAGS,
)
_COUNT_ASK = re.compile(
    r"\b(how many|what percentage|what per ?cent|what share|сколько|какой процент|"
    r"какая доля|какую долю|kaç|yüzde kaç|ne kadarı)",
    _FLAGS,
)
_AMOUNT_ASK = re.compile(
    r"\b(how (much|long|large|big|far|high|deep|fast|old)|by how|what (is|was|will be) the "
    r"(capacity|length|size|volume|amount|number|area|height|depth|population)|"
    r"насколько|на какой срок|какой (длины|высоты|ширины|площади|мощности|глубины)|каков\w* "
    r"(длина|мощность|объ[её]м|площадь|высота|численность)|ne kadar|ne büyüklükte|kapasitesi)",
    _FLAGS,
)
_DATE_ASK = re.compile(
    r"\b((what|which) (year|date|day|month)|в каком (году|месяце)|какого числа|в какой день|"
    r"hangi (yıl|tarih|gün|ay)\w*|ne tarihte)",
    _FLAGS,
)
_TIME_ASK = re.compile(r"\b(when|since when|когда|с какого|ne zaman|ne zamandan)", _FLAGS)
# "Who heads the network?", «Кто возглавляет…», "…başkanı kimdir?", "what is it called" ask for
# a name; "Who is Emil Avdaliani?", «Кто такой…», "Emil Avdaliani kimdir?" ask who a named
# person is: a description, which need not hold another name.
_NAME_ASK = re.compile(
    r"\b(who|whom|whose|what is the name|what was the name|кто|кого|кому|кем|чей|чья|чьё|чьи|"
    r"как (\w+ )?(называ(ет|ют)ся|называл(ся|ась|ось|ись)|зовут|звали)|"
    r"kim|kimi|kime|kimin|kimdir|kimdi|kimler\w*|"
    r"ad[ıi] ne\w*|ismi ne\w*)\b",
    _FLAGS,
)
_WHO_IS_NAMED = re.compile(
    r"^\W*((?i:who (is|was|are|were)) [A-ZА-ЯЁ]|(?i:кто (так(ой|ая|ие|ое)|это|он|она))\b)"
    r"|[A-ZА-ЯЁÇĞİÖŞÜ][\w'’.-]* (kimdir|kimdi|kim)\W*$",
    re.UNICODE,
)

_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|hundred|thousand|million|billion|trillion|dozen|half|twice|double|triple|"
    r"один|одна|два|две|двух|три|трех|трёх|четыре|четырех|четырёх|пять|пяти|шесть|шести|"
    r"семь|семи|восемь|восьми|девять|девяти|десять|десяти|двадцать|тридцать|сорок|сто|"
    r"тысяч[аиу]?|миллион\w*|миллиард\w*|половин\w*|треть|трети|четверть|вдвое|втрое|"
    r"полтора|полторы|iki|üç|dört|beş|yedi|sekiz|dokuz|yirmi|otuz|kırk|elli|bin|"
    r"milyon\w*|milyar\w*|yarısı"
)
_NUMBER = re.compile(rf"\d|\b({_NUMBER_WORDS})\b", _FLAGS)
_CURRENCY = re.compile(
    r"[$€£₽₼₺¥]|\b(dollars?|euros?|pounds?|usd|eur|rub|roubles?|rubles?|manats?|lira|liras|"
    r"tenge|somoni|yuan|доллар\w*|евро|рубл\w*|манат\w*|тенге|сом|сомов|сомони|лир[аыу]?|юан\w*|"
    r"dolar\w*|avro|ruble\w*|liras\w*)\b",
    _FLAGS,
)
_MONTHS = (
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"январ\w*|феврал\w*|март\w*|апрел\w*|ма[йяе]|июн\w*|июл\w*|август\w*|сентябр\w*|"
    r"октябр\w*|ноябр\w*|декабр\w*|ocak|şubat|mart|nisan|mayıs|haziran|temmuz|ağustos|eylül|"
    r"ekim|kasım|aralık"
)
_TIME = re.compile(
    rf"\b(1[5-9]\d\d|20\d\d)\b|\b\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}\b|\b({_MONTHS})\b", _FLAGS
)


def expected_type(question: str) -> AnswerType | None:
    """The kind of answer ``question`` asks for, or None when any sentence could answer."""
    if _WHY.search(question):
        return None
    money = _MONEY_ASK.search(question)
    if (money and _HOW_MUCH.search(question)) or _MONEY_WANTED.search(question):
        return AnswerType.MONEY
    if _COUNT_ASK.search(question):
        return AnswerType.COUNT
    if _AMOUNT_ASK.search(question):
        return AnswerType.AMOUNT
    if _DATE_ASK.search(question):
        return AnswerType.DATE
    if _TIME_ASK.search(question):
        return AnswerType.TIME
    if money:
        return AnswerType.AMOUNT
    if _NAME_ASK.search(question) and not _WHO_IS_NAMED.search(question):
        return AnswerType.NAME
    return None


def types_in(text: str) -> frozenset[AnswerType]:
    """The kinds of answer ``text`` holds: a figure answers COUNT and AMOUNT questions, a
    figure with a currency a MONEY one, a year, month or date a DATE or TIME one."""
    found = set()
    if _NUMBER.search(text):
        found |= {AnswerType.COUNT, AnswerType.AMOUNT}
        if _CURRENCY.search(text):
            found.add(AnswerType.MONEY)
    if _TIME.search(text):
        found |= {AnswerType.DATE, AnswerType.TIME}
    return frozenset(found)
