"""Key-point scoring on real Chinese answers, as staff would give them to an inspector."""

from __future__ import annotations

import pytest

from bot.quiz.drill import normalise, point_coverage, score_answer

# "‘两基’通过国检要满足什么条件？" — the key points of the starter bank's q020.
PASSING = ["两通过、一达标", "所有县通过审查", "教育部公布", "自查材料通过国家审查",
           "抽查地区指标全部达标"]
# "均衡认定的一票否决情形" (seed 004), abridged.
VETO = ["薄弱学校改造", "残疾儿童入学率", "三个增长", "重大安全事故", "满意度85%"]


def test_paraphrase_with_every_key_point_scores_high() -> None:
    answer = (
        "概括起来叫“两通过，一达标”：一是我省所有的县都通过了国家督导团的审查，"
        "名单由教育部统一公布；二是省里报上去的自查材料要通过国家的审查；"
        "三是被抽到的地区，各项指标全部都要达到标准。"
    )
    result = score_answer(answer, PASSING)
    assert result.missed == ()
    assert result.score == 1.0


def test_paraphrase_with_other_words_and_chinese_numerals() -> None:
    answer = (
        "薄弱学校的改造任务没完成、残疾儿童的入学率不达标、连续两年没实现三个增长、"
        "发生了重大安全事故，还有群众满意度低于百分之八十五，这些都会被一票否决。"
    )
    result = score_answer(answer, VETO)
    assert result.score == 1.0


def test_an_answer_missing_a_point_loses_exactly_that_point() -> None:
    answer = (
        "要做到两通过一达标。全省所有县都通过国家教育督导团审查，并由教育部公布；"
        "被抽查的地区指标全部达标。"
    )
    result = score_answer(answer, PASSING)
    assert result.missed == ("自查材料通过国家审查",)
    assert result.covered == tuple(p for p in PASSING if p != "自查材料通过国家审查")
    assert result.percent == 80


def test_a_point_left_out_of_a_list_is_missed() -> None:
    answer = "否决的情形有：薄弱学校改造没完成，发生重大安全事故，满意度不到85%，三个增长没做到。"
    result = score_answer(answer, VETO)
    assert result.missed == ("残疾儿童入学率",)


@pytest.mark.parametrize(
    "answer",
    ["", "   ", "。。。", "不知道", "今天天气很好，我们下午去公园散步，晚上吃了一碗牛肉面。"],
)
def test_empty_or_unrelated_answers_score_zero(answer: str) -> None:
    assert score_answer(answer, PASSING).score == 0.0
    assert score_answer(answer, VETO).score == 0.0


def test_an_answer_to_another_question_scores_zero() -> None:
    other = "七项重点内容是普及程度、教师队伍、办学条件、教育经费、教育质量、学校安全管理和扫盲工作。"
    assert score_answer(other, PASSING).score == 0.0


def test_numbers_are_compared_as_digits() -> None:
    assert normalise("百分之八十五") == "85%"
    assert normalise("六至十五周岁") == "6至15周岁"
    assert normalise("差异系数零点六五") == "差异系数0.65"
    assert normalise("一把手负总责") == "一把手负总责"
    assert point_coverage("6至15周岁", normalise("对六至十五周岁的残疾少儿逐一普查")) == 1.0


def test_no_key_points_means_no_score() -> None:
    assert score_answer("两通过一达标", []).score == 0.0
