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
        # "Who" asks for a name; "who is <a name>" for who that person is (a description).
        ("Кто стоит во главе комитета?", AnswerType.NAME),  # "стоит": "stands", not "costs"
        ("Who chairs the patient network?", AnswerType.NAME),
        ("Komitenin başkanı kimdir?", AnswerType.NAME),
        ("Как называлось судно?", AnswerType.NAME),
        ("What is the name of the mission?", AnswerType.NAME),
        ("Кто такой Рашад Набиев?", None),
        ("Emil Avdaliani kimdir?", None),
        ("Как автор называет эту модель?", None),  # how the author describes it
        ("How old is the director?", AnswerType.AMOUNT),
        ("Сколько денег выделяется на проект?", AnswerType.MONEY),
        ("Во сколько оценивается линия?", AnswerType.MONEY),
        ("Derin sularda onarım ne kadara mal oluyor?", AnswerType.MONEY),
        ("Почему выросли затраты?", None),  # why costs rose: an explanation, not a sum
        ("What did Putin wish Aliyev?", None),
        # A money word with no how-much ask names the topic: at most some figure is asked for.
        ("Какой вес получила цена при оценке заявок?", AnswerType.AMOUNT),
        ("What weight did price get in the evaluation?", AnswerType.AMOUNT),
        ("In what year did the price of gas peak?", AnswerType.DATE),
        # A day or a month asked for is a date as much as a year is.
        ("Which day did the company notify the partnership?", AnswerType.DATE),
        ("В каком месяце открылся порт?", AnswerType.DATE),
        ("Şirket ortaklığı hangi gün bilgilendirdi?", AnswerType.DATE),
        ("Limana ilk gemi hangi ayda yanaştı?", AnswerType.DATE),
        ("На какой срок был выдан кредит?", AnswerType.AMOUNT),  # a term: a figure of years
        ("What was the price of the new ambulance?", AnswerType.MONEY),
        ("What is the total cost of the project?", AnswerType.MONEY),
        ("Какова общая стоимость контракта?", AnswerType.MONEY),
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


def _holds(question: str, sentence: str, translations: dict[int, set[str]] | None = None) -> bool:
    import numpy as np

    from rag.answer.ranking import holds_wanted
    from rag.answer.sentence_features import UnitFeatures
    from rag.corpus.text import full_names
    from rag.query import Query

    query = Query.parse(question, np.zeros(1, dtype=np.float32))
    if translations:
        found = [frozenset(translations.get(i, ())) for i in range(len(query.words))]
        query = Query.parse(question, query.vector, found)
    names = tuple(tuple(name) for name in full_names(sentence))
    features = UnitFeatures(frozenset(), "en", set(), False, types_in(sentence), names)
    return holds_wanted(query, features)


def test_who_is_answered_by_a_full_name_the_question_does_not_hold() -> None:
    """ "Who chairs the Carrow Valley Diabetes Network?": the sentence naming the network
    names no one; the one naming Grace Whitmore does; a lone capitalised word is not a
    full name ("Its chair, Whitmore, ..." is left to the other features)."""
    question = "Who chairs the Carrow Valley Diabetes Network?"
    assert not _holds(question, "The Carrow Valley Diabetes Network surveyed 1,200 people.")
    assert _holds(question, "Grace Whitmore, who chairs the patient network, says so.")
    assert not _holds(question, "Its chair says the survey changed how the partnership works.")


def test_a_name_the_question_holds_in_translation_is_not_an_answer() -> None:
    """«Кто возглавляет Комитет геологии?» and "the Geology Committee" in the text."""
    question = "Кто возглавляет Комитет геологии?"
    words = {1: {"committe"}, 2: {"geolog"}}
    assert not _holds(question, "The Geology Committee announced a find.", words)
    assert _holds(question, "Its head, Daniyar Sadykov, announced a find.", words)


def test_full_names_are_runs_of_capitalised_words() -> None:
    from rag.corpus.text import full_names

    assert [len(n) for n in full_names("Генеральный директор ВЗТ Ирина Соколовская говорит")] == [3]
    assert full_names("В апреле Комитет объявил, что Москва и Баку договорились.") == []
    assert full_names("Олег Варнавин объясняет")[0][0][0] == "олег"
