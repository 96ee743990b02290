"""Key-point scoring on real Chinese answers, as staff would give them to an inspector."""

from __future__ import annotations

import pytest
from fsrs import Rating

from bot.quiz.drill import normalise, required_points, score_answer
from bot.quiz.srs import rating_for_score

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
    assert score_answer("对六至十五周岁的残疾少儿逐一普查", ["6至15周岁残疾少儿普查"]).score == 1.0


def test_no_key_points_means_no_score() -> None:
    assert score_answer("两通过一达标", []).score == 0.0


# What the field reported (issue 13): paraphrases that scored too low, errors that scored.
SEVEN = ["普及程度", "教师队伍", "办学条件", "教育经费", "教育质量", "学校安全管理", "扫盲工作"]
FOUR_STANDARDS = ["办学基本标准85分以上", "政府推进工作85分以上", "小学差异系数不超过0.65",
                  "初中差异系数不超过0.55", "公众满意度85%以上"]
PRINCIPLES = ["随机抽样，点面结合", "硬件从实，软件从严", "重在过程，兼顾结果", "政府行为",
              "保证投入", "全面布置，突出重点", "实事求是，总体评价", "与干部政绩挂钩",
              "坚持验收标准，不降格以求"]


def test_everyday_words_for_the_seven_contents() -> None:
    answer = "普及程度，老师队伍，办学条件，教育经费，教学质量，学校安全管理，扫盲工作。"
    assert score_answer(answer, SEVEN, question_key="q022").score == 1.0
    # 教学质量 stands for 教育质量 only where the bank says so (naming the seven contents).
    assert score_answer("教学质量", ["教育质量"]).covered == ()


def test_the_provincial_government_is_not_the_county_government() -> None:
    point = ["受检主体是省级人民政府"]
    assert score_answer("国检的受检主体是省政府。", point).score == 1.0
    result = score_answer("国检的受检主体是县政府。", point)
    assert result.covered == ()


@pytest.mark.parametrize(
    ("answer", "point"),
    [
        ("档案做到真实准确。", "真实性和准确性"),
        ("我们绝不造假。", "不弄虚作假"),
        ("先查漏补缺，完不成的放假也要加班补课。", "堵漏补缺"),
        ("乡镇档案不和学区档案混在一起。", "不与学区档案混为一谈"),
    ],
)
def test_synonyms_from_the_field(answer: str, point: str) -> None:
    assert score_answer(answer, [point]).covered == (point,)


def test_swapped_thresholds_are_wrong() -> None:
    answer = ("办学基本标准85分以上，政府推进工作85分以上，差异系数小学0.55、初中0.65，"
              "满意度85%以上。")
    result = score_answer(answer, FOUR_STANDARDS)
    assert set(result.wrong) == {"小学差异系数不超过0.65", "初中差异系数不超过0.55"}
    assert result.score == pytest.approx(1 / 5)


def test_values_said_respectively_keep_their_order() -> None:
    right = "小学和初中差异系数分别不超过0.65和0.55。"
    swapped = "小学和初中差异系数分别不超过0.55和0.65。"
    points = FOUR_STANDARDS[2:4]
    assert score_answer(right, points).covered == tuple(points)
    assert score_answer(swapped, points).wrong == tuple(points)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("公众满意度85%以上。", "covered"),
        ("公众满意度不低于百分之八十五。", "covered"),
        ("公众满意度要在0.85以上。", "covered"),
        ("公众满意度八十五以上。", "covered"),
        ("公众满意度58%以上。", "wrong"),
        ("公众满意度85%以下。", "wrong"),
        ("公众满意度要高。", "missed"),
    ],
)
def test_satisfaction_threshold(answer: str, expected: str) -> None:
    result = score_answer(answer, ["公众满意度85%以上"])
    outcome = "covered" if result.covered else "wrong" if result.wrong else "missed"
    assert outcome == expected


def test_an_age_range_must_match() -> None:
    point = ["6至15周岁残疾人口普查"]
    assert score_answer("对6到15周岁的残疾人口做了普查。", point).covered
    assert score_answer("对3到6周岁的残疾人口做了普查。", point).wrong


def test_one_year_of_three_is_not_two() -> None:
    point = ["三个增长三年中两年不达标"]
    assert score_answer("三个增长三年中有两年不达标。", point).covered
    assert score_answer("三个增长三年中有一年不达标。", point).wrong


@pytest.mark.parametrize(
    ("answer", "point"),
    [
        ("抽查地区的指标不需要全部达标。", "抽查地区各项指标全部达标"),
        ("户籍信息没有及时更新。", "户籍信息及时更新"),
        ("主要领导无需亲自督查。", "主要领导亲自督查"),
        ("土地出让净收益没有按10%计提。", "土地出让净收益按10%计提"),
        ("验收标准可降格。", "坚持验收标准，不降格以求"),
        ("数据差一点可以随意更改。", "严禁随意更改"),
        ("远程教育设备基本不用。", "用好远程教育设备"),
        ("安全演练影响上课，我们基本不搞。", "安全演练"),
    ],
)
def test_a_demand_said_the_other_way_round_is_wrong(answer: str, point: str) -> None:
    assert score_answer(answer, [point]).wrong == (point,)


def test_a_prohibition_covers_the_whole_list() -> None:
    points = ["严禁弄虚作假", "严禁随意更改", "严禁虚报瞒报"]
    assert score_answer("严禁弄虚作假、随意更改、虚报瞒报。", points).score == 1.0
    # Without its "not", a prohibition is not stated.
    assert score_answer("弄虚作假、随意更改、虚报瞒报。", points).covered == ()


def test_a_not_of_its_own_does_not_negate_the_point() -> None:
    assert score_answer("我们调整了不合理的学校布局。", ["调整学校布局"]).score == 1.0
    assert score_answer("看有没有侵占挪用义务教育经费。", ["侵占挪用义务教育经费"]).score == 1.0


def test_reversed_principles_are_wrong() -> None:
    answer = "重在结果，兼顾过程；硬件从严，软件从实；标准可以降格。"
    result = score_answer(answer, PRINCIPLES, question="请说出九项原则中的至少四项。")
    assert set(result.wrong) == {PRINCIPLES[1], PRINCIPLES[2], PRINCIPLES[8]}
    assert result.score == 0.0


def test_responsibilities_on_the_wrong_people_are_wrong() -> None:
    points = ["一把手负总责", "分管领导负直接责任", "相关人员负相应责任"]
    right = score_answer("一把手负总责，分管领导负直接责任，相关人员负相应责任。", points)
    assert right.score == 1.0
    swapped = score_answer("分管领导负总责，一把手负直接责任，相关人员负相应责任。", points)
    assert swapped.wrong == tuple(points[:2])
    helper = score_answer("人社局会同编办和教育局按核定编制招聘教师。", ["人社局按核定编制招聘教师"])
    assert helper.score == 1.0  # those 会同'd are not the subject


def test_a_procedure_in_reverse_is_wrong() -> None:
    points = ["县自评", "市（州）复核", "省级督评", "向社会公示", "国家评估认定"]
    question = "县域义务教育均衡发展的评估认定按什么程序进行？"
    right = score_answer("县自评、市州复核、省级督评、公示，最后国家评估认定。", points,
                         question=question)
    assert right.score == 1.0
    reverse = score_answer("先国家评估认定，再省级督评，然后市州复核，最后县自评，还要公示。",
                           points, question=question)
    assert len(reverse.wrong) >= 3 and not reverse.passed


def test_any_n_of_the_listed_points_earn_full_marks() -> None:
    question = "义务教育发展基本均衡认定有哪些一票否决情形？请说出至少四项。"
    points = ["未完成薄弱学校改造任务", "残疾儿童入学率不达标", "三个增长三年中两年不达标",
              "存在重大安全事故或隐患", "公众满意度未达到85%", "挤占、挪用、截留教育经费",
              "督导评估弄虚作假", "13项核心指标有4项不达标"]
    four = score_answer("挤占挪用截留教育经费、督导评估弄虚作假、存在重大安全隐患、"
                        "公众满意度不到85%。", points, question=question)
    assert four.required == 4 and len(four.covered) == 4 and four.score == 1.0
    three = score_answer("督导评估弄虚作假、存在重大安全隐患、残疾儿童入学率不达标。", points,
                         question=question)
    assert three.score == 0.75
    # A wrong one costs what a right one earns.
    mixed = score_answer("督导评估弄虚作假、存在重大安全隐患、残疾儿童入学率不达标、"
                         "公众满意度未达到80%。", points, question=question)
    assert len(mixed.wrong) == 1 and mixed.score == 0.5


@pytest.mark.parametrize(
    ("question", "expected"),
    [("请说出九项原则中的至少四项。", 4), ("请说出七项重点内容。", 7), ("列举三项。", 3),
     ("国检查教育经费，主要看哪些方面？", None)],
)
def test_required_points(question: str, expected: int | None) -> None:
    assert required_points(question) == expected


def test_repeating_the_question_scores_nothing() -> None:
    question = "适龄残疾少年儿童的入学工作，你们是怎么做的？"
    points = ["入学率是一票否决项目", "动员入学"]
    assert score_answer("适龄残疾少年儿童的入学工作我们是怎么做的", points,
                        question=question).score == 0.0
    assert score_answer("我们逐个动员入学。", points, question=question).covered == ("动员入学",)


def test_the_score_feeds_fsrs_as_before() -> None:
    result = score_answer("两通过一达标，所有县通过国家教育督导团审查，教育部公布。",
                          ["两通过、一达标", "所有县通过国家教育督导团审查", "教育部公布",
                           "自查材料通过国家审查"])
    assert result.score == 0.75 and result.percent == 75 and result.passed
    assert rating_for_score(result.score) is Rating.Good
