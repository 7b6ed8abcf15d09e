"""Expected answer types: what a question asks for, and which sentences hold it."""

from __future__ import annotations

import pytest

from rag.answer_types import STRICT, AnswerType, expected_type, types_in


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("How much did the bridge cost?", AnswerType.MONEY),
        ("Сколько стоит строительство канала?", AnswerType.MONEY),
        ("Во сколько обошёлся переход?", AnswerType.MONEY),
        ("Во сколько обойдётся строительство дороги?", AnswerType.MONEY),
        ("Projenin tahmini maliyeti ne kadar?", AnswerType.MONEY),
        ("How many people live in Baku?", AnswerType.COUNT),
        ("Сколько воды осталось в водохранилище?", AnswerType.COUNT),
        ("Kaç kişi katıldı?", AnswerType.COUNT),
        ("How much electricity did Kyrgyzstan get?", AnswerType.AMOUNT),
        ("Насколько поднимут дамбу?", AnswerType.AMOUNT),
        ("Santralin kurulu gücü ne kadar olacak?", AnswerType.AMOUNT),
        ("When was the canal opened?", AnswerType.TIME),
        ("On what date did they speak by phone?", AnswerType.DATE),
        ("В каком году открыли канал?", AnswerType.DATE),
        ("Hat hangi yılda tamamlandı?", AnswerType.DATE),
        ("Когда произошел инцидент?", AnswerType.TIME),
        ("LitPol Link hattı ne zaman tamamlandı?", AnswerType.TIME),
        ("Who is Rashad Nabiyev?", None),
        ("Кто стоит во главе комитета?", None),  # "стоит" here is "stands", not "costs"
        ("Сколько денег выделяется на проект?", AnswerType.MONEY),
        ("Во сколько оценивается линия?", AnswerType.MONEY),
        ("Derin sularda onarım ne kadara mal oluyor?", AnswerType.MONEY),
        ("Почему выросли затраты?", None),  # why costs rose: an explanation, not a sum
        ("What did Putin wish Aliyev?", None),
        # A money word with no how-much ask names the topic: at most some figure is asked for.
        ("Какой вес получила цена при оценке заявок?", AnswerType.AMOUNT),
        ("What weight did price get in the evaluation?", AnswerType.AMOUNT),
        ("In what year did the price of gas peak?", AnswerType.DATE),
    ],
)
def test_expected_type(question: str, wanted: AnswerType | None) -> None:
    assert expected_type(question) == wanted


def test_only_sums_counts_and_dates_are_strict() -> None:
    assert frozenset({AnswerType.MONEY, AnswerType.COUNT, AnswerType.DATE}) == STRICT


@pytest.mark.parametrize(
    ("sentence", "held"),
    [
        ("It cost roughly 1.6 billion euros.", {"money", "count", "amount"}),
        ("Первый этап обошёлся в 86 миллионов долларов.", {"money", "count", "amount"}),
        ("The cable carries 700 megawatts.", {"count", "amount"}),
        ("Площадь выросла вдвое.", {"count", "amount"}),
        ("The line opened in October 2023.", {"count", "amount", "date", "time"}),
        ("Работы начались в декабре.", {"date", "time"}),
        ("The ministers met on good terms to discuss cooperation.", set()),
        ("Сотрудничество продолжится, сомнений нет.", set()),
    ],
)
def test_types_in(sentence: str, held: set[str]) -> None:
    assert {str(t) for t in types_in(sentence)} == held
