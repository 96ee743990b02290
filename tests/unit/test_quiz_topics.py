"""Which bank questions a campaign's indicators ask (bot.quiz.topics), on the sample files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.quiz.bank import STARTER_BANK, parse_yaml
from bot.quiz.topics import on_topic, question_text
from bot.tables.setup import load_setup
from db.models import Indicator, Question

CAMPAIGN = Path(__file__).resolve().parents[2] / "examples" / "campaign.toml"


@pytest.fixture(scope="module")
def questions() -> list[Question]:
    bank = parse_yaml(STARTER_BANK.read_text(encoding="utf-8"))
    return [
        Question(id=n, key=q.key, kind=q.kind, text=q.text, options=list(q.options),
                 correct=list(q.correct), explanation=q.explanation,
                 key_points=list(q.key_points), model_answer=q.model_answer)
        for n, q in enumerate(bank.questions, start=1)
    ]


@pytest.fixture(scope="module")
def campaign() -> dict[str, Indicator]:
    return {i.code: Indicator(code=i.code, name=i.name, description=i.description)
            for i in load_setup(CAMPAIGN).indicators}


def _keys(indicator: Indicator, questions: list[Question]) -> set[str]:
    found = on_topic([indicator], questions)
    return {q.key for q in questions if q.id in found}


def test_c1_asks_about_the_difference_coefficient(
    campaign: dict[str, Indicator], questions: list[Question]
) -> None:
    keys = _keys(campaign["C1"], questions)
    assert "q131" in keys  # 小学和初中的综合差异系数标准
    for q in questions:
        if q.key in keys:
            assert "差异系数" in question_text(q), q.key


@pytest.mark.parametrize(
    ("code", "expected", "word"),
    [
        ("B2", {"q058", "q059", "q061", "q065"}, "土地出让"),
        ("D", {"q134"}, "满意度"),
        ("E", {"q024", "q025", "q026"}, "普及程度"),
        ("E1", {"q029", "q030", "q038"}, "控辍保学"),
        ("E2", {"q039", "q127"}, "残疾"),
        ("F1", {"q073", "q078"}, "安全"),
        ("G1", {"q151", "q177"}, "档案|真实|弄虚作假"),
        ("H1", {"q057", "q066"}, "挪用"),
    ],
)
def test_each_indicator_asks_its_topic(
    campaign: dict[str, Indicator], questions: list[Question], code: str, expected: set[str],
    word: str,
) -> None:
    keys = _keys(campaign[code], questions)
    assert expected <= keys
    for q in questions:
        if q.key in keys:
            assert any(w in question_text(q) for w in word.split("|")), (code, q.key)


def test_an_indicator_the_bank_does_not_cover_asks_nothing(
    campaign: dict[str, Indicator], questions: list[Question]
) -> None:
    assert _keys(campaign["B5"], questions) == set()  # 校长教师交流轮岗


def test_the_description_steers_the_match(questions: list[Question]) -> None:
    bare = Indicator(code="X", name="教师交流轮岗", description="")
    steered = Indicator(code="X", name="教师交流轮岗",
                        description="县域内均衡配置教师，解决农村学校缺编")
    assert _keys(bare, questions) == set()
    assert "q047" in _keys(steered, questions)


def test_every_sample_indicator_but_one_finds_questions(
    campaign: dict[str, Indicator], questions: list[Question]
) -> None:
    empty = [code for code, indicator in campaign.items() if not _keys(indicator, questions)]
    assert empty == ["B5"]
