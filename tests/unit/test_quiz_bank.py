"""The bank file: Telegram's poll limits, row-level errors, YAML and CSV both ways."""

from __future__ import annotations

import re

import pytest
from telegram.constants import PollLimit

from bot.quiz.bank import (
    MAX_OPTIONS,
    STARTER_BANK,
    BankInvalid,
    QuestionSpec,
    near_duplicates,
    parse_csv,
    parse_yaml,
    to_csv,
    to_yaml,
)
from bot.quiz.drill import STOPWORDS, cut, required_points, score_answer
from bot.quiz.lexicon import clean, shipped
from bot.texts import Texts
from db.models import QuestionKind

GOOD = """
version: 1
indicators:
  - {code: FJ, name: 一票否决, veto: true, description: 出现即不能通过}
  - {code: DA, name: 档案资料, parent: FJ}
questions:
  - id: a1
    type: single
    indicator: FJ
    difficulty: 1
    question: 均衡认定的公众满意度须达到多少？
    options: ["85%以上", "60%以上"]
    correct: [0]
    explanation: 满意度低于85%属于一票否决情形。
    source: "004"
  - id: a2
    type: open
    indicator: DA
    difficulty: 2
    question: 档案怎样保证真实准确？
    explanation: 要点：真实、准确、不弄虚作假。
    key_points: [真实性和准确性, 不弄虚作假]
    model_answer: 主要领导亲自督查，每项数据都有佐证，绝不弄虚作假。
    source: "001"
"""


def _errors(content: str, parse: object = parse_yaml) -> list[tuple[int, str, str]]:
    with pytest.raises(BankInvalid) as caught:
        parse(content)  # type: ignore[operator]
    return [(e.row, e.ref, e.message_id) for e in caught.value.errors]


def test_a_valid_bank_parses() -> None:
    bank = parse_yaml(GOOD)
    assert [i.code for i in bank.indicators] == ["FJ", "DA"]
    assert bank.indicators[1].parent == "FJ" and bank.indicators[0].veto
    single, open_ = bank.questions
    assert single.kind is QuestionKind.SINGLE and single.correct == (0,)
    assert open_.kind is QuestionKind.OPEN and open_.key_points == ("真实性和准确性", "不弄虚作假")


def test_every_problem_is_reported_with_its_row() -> None:
    broken = f"""
version: 1
indicators:
  - {{code: FJ, name: 一票否决}}
questions:
  - id: b1
    type: single
    indicator: FJ
    difficulty: 1
    question: "{'长' * 301}"
    options: ["只有一个"]
    correct: [0]
    explanation: "{'解' * 201}"
  - id: b2
    type: multiple
    indicator: XX
    difficulty: 5
    question: 哪些正确？
    options: ["甲", "{'乙' * 101}", "丙"]
    correct: []
  - id: b2
    type: essay
    indicator: FJ
    difficulty: 1
    question: 重复的编号
  - id: b4
    type: single
    indicator: FJ
    difficulty: 2
    question: 选项越界
    options: ["甲", "乙"]
    correct: [2]
  - id: b5
    type: open
    indicator: FJ
    difficulty: 2
    question: 没有要点
"""
    errors = _errors(broken)
    by_id: dict[str, set[str]] = {}
    for _, ref, message in errors:
        by_id.setdefault(ref, set()).add(message.removeprefix("quiz.bank.err."))
    assert by_id["b1"] == {"too_long", "option_count"}  # question 301, explanation 201, 1 option
    assert {m for _, r, m in errors if r == "b1"} and len([e for e in errors if e[1] == "b1"]) == 3
    assert by_id["b2"] >= {"bad_difficulty", "option_too_long", "no_correct", "bad_type"}
    assert "correct_range" in by_id["b4"]
    assert by_id["b5"] == {"missing"}
    # Rows are the lines the questions start on, in file order.
    rows = [row for row, ref, _ in errors if ref == "b1"]
    assert rows == [6, 6, 6]
    assert errors == sorted(errors, key=lambda e: e[0])


def test_cross_references_are_checked_on_valid_rows() -> None:
    duplicate = GOOD + GOOD.split("questions:\n", 1)[1]
    assert ("quiz.bank.err.duplicate_id" in {m for _, _, m in _errors(duplicate)})
    unknown = GOOD.replace("indicator: DA", "indicator: ZZ")
    assert [(ref, m) for _, ref, m in _errors(unknown)] == [("a2", "quiz.bank.err.unknown_indicator")]
    # An indicator already in the database may be referred to without being in the file.
    assert parse_yaml(unknown, known_indicators={"ZZ"}).questions[1].indicator == "ZZ"


def test_single_and_truefalse_need_exactly_one_correct_option() -> None:
    two = GOOD.replace("correct: [0]", "correct: [0, 1]")
    assert [m for _, _, m in _errors(two)] == ["quiz.bank.err.one_correct"]
    tf = GOOD.replace("type: single", "type: truefalse").replace(
        'options: ["85%以上", "60%以上"]', 'options: ["正确", "错误", "不确定"]'
    )
    assert [m for _, _, m in _errors(tf)] == ["quiz.bank.err.truefalse_options"]


def test_explanations_keep_to_two_line_feeds() -> None:
    text = GOOD.replace("explanation: 满意度低于85%属于一票否决情形。", 'explanation: "一\\n二\\n三\\n四"')
    assert [m for _, _, m in _errors(text)] == ["quiz.bank.err.line_feeds"]


def test_yaml_syntax_errors_name_the_line() -> None:
    errors = _errors("questions:\n  - id: x\n   type: [unclosed\n")
    assert errors[0][2] == "quiz.bank.err.syntax" and errors[0][0] >= 2


def test_not_a_bank() -> None:
    assert _errors("- just\n- a list\n") == [(0, "-", "quiz.bank.err.not_a_bank")]


def test_yaml_round_trip() -> None:
    bank = parse_yaml(GOOD)
    assert parse_yaml(to_yaml(bank)) == bank


def test_csv_round_trip_and_row_numbers() -> None:
    bank = parse_yaml(GOOD)
    content = to_csv(bank)
    assert content.startswith("\ufeffid,type,indicator")
    again = parse_csv(content, known_indicators={"FJ", "DA"})
    assert again.questions == bank.questions
    broken = content.replace("85%以上", "x" * 101)
    assert _errors(broken, lambda c: parse_csv(c, known_indicators={"FJ", "DA"})) == [
        (2, "a1", "quiz.bank.err.option_too_long")
    ]


def test_csv_without_the_needed_columns() -> None:
    assert _errors("id,question\nq1,什么？\n", parse_csv) == [(1, "-", "quiz.bank.err.csv_header")]


def test_error_texts_exist_in_both_languages() -> None:
    texts = Texts.load()
    for lang in ("zh", "en"):
        assert texts.plain(lang, "quiz.bank.err.too_long", field="question", length=301, limit=300)


def test_the_starter_bank_keeps_to_telegrams_limits() -> None:
    """The shipped bank: ≥ 100 questions, each a valid quiz poll (or open question)."""
    bank = parse_yaml(STARTER_BANK.read_text(encoding="utf-8"))
    assert len(bank.questions) >= 100
    assert {q.kind for q in bank.questions} == set(QuestionKind)
    codes = {i.code for i in bank.indicators}
    for q in bank.questions:
        assert q.indicator in codes
        assert q.source, q.key
        assert 1 <= len(q.text) <= PollLimit.MAX_QUESTION_LENGTH, q.key
        assert len(q.explanation) <= PollLimit.MAX_EXPLANATION_LENGTH, q.key
        if q.kind is QuestionKind.OPEN:
            assert q.key_points and q.model_answer, q.key
            continue
        assert 2 <= len(q.options) <= min(MAX_OPTIONS, PollLimit.MAX_OPTION_NUMBER), q.key
        assert all(1 <= len(o) <= PollLimit.MAX_OPTION_LENGTH for o in q.options), q.key
        assert q.correct and all(0 <= i < len(q.options) for i in q.correct), q.key


# The starter bank's content ----------------------------------------------------------------
@pytest.fixture(scope="module")
def starter() -> tuple[QuestionSpec, ...]:
    return parse_yaml(STARTER_BANK.read_text(encoding="utf-8")).questions


def _open(questions: tuple[QuestionSpec, ...]) -> list[QuestionSpec]:
    return [q for q in questions if q.kind is QuestionKind.OPEN]


def test_every_question_names_its_seed(starter: tuple[QuestionSpec, ...]) -> None:
    for q in starter:
        assert re.fullmatch(r"00[0-4]( [^,]+)?(, 00[0-4]( [^,]+)?)*", q.source), q.key


def test_a_drill_prompt_says_who_asks_once(starter: tuple[QuestionSpec, ...]) -> None:
    """The drill view puts "检查组问：" before the question; the question must not repeat it."""
    texts = Texts.load()
    for q in _open(starter):
        prompt = texts.get("zh", "quiz.drill.prompt", indicator="指标", question=q.text,
                           minutes=30)
        assert prompt.count("检查组问") == 1, q.key
        assert not q.text.startswith("检查组"), q.key


# Words that point at a document the quiz-taker never saw, or make a question about one
# county's own papers (its plan, notice, speech, school, file numbers, dates).
UNSEEN = re.compile(
    r"材料(中|认为|所述|列出|提出|归纳|点名|要求|说明|写明)|这份|这次|此次|上述|原文|讲话"
    r"|该(讲话|方案|通知|计划|校|县|区|总结|汇报)"
    r"|一份.{0,20}(方案|计划|通知|汇报|总结|材料)|(方案|通知|计划|汇报|总结)(要求|认为|提出|写明|明确|称)"
    r"|欢胜|石河子|人社局方案|政办发|\d{4}年|\d{4}—\d{4}"
)


def test_questions_stand_alone(starter: tuple[QuestionSpec, ...]) -> None:
    for q in starter:
        for name, text in (("question", q.text), ("explanation", q.explanation),
                           ("model_answer", q.model_answer), *(("option", o) for o in q.options)):
            match = UNSEEN.search(text)
            assert match is None, f"{q.key} {name}: {match and match.group(0)} in {text}"


OLD_TWINS = """
version: 1
indicators: [{code: YZ, name: 督导原则}, {code: GZ, name: 迎检工作}, {code: JH, name: 均衡}]
questions:
  - id: q087
    type: single
    indicator: YZ
    difficulty: 3
    question: "“所有的县（区、市）都是被检对象，要克服侥幸心理”，是对哪条原则的说明？"
    options: ["随机抽样，点面结合", "全面布置，突出重点", "保证投入", "实事求是，总体评价"]
    correct: [1]
    explanation: "“全面布置，突出重点”原则强调每个县都可能被检，不能存侥幸心理。"
    source: "000 第五篇"
  - id: q093
    type: truefalse
    indicator: YZ
    difficulty: 2
    question: "按九项原则，只有被抽到的县才是被检对象，没被抽到的县可以不做准备。"
    options: ["正确", "错误"]
    correct: [1]
    explanation: "“全面布置，突出重点”原则明确所有县都是被检对象，要克服侥幸心理。"
    source: "000 第五篇"
  - id: q096
    type: multiple
    indicator: GZ
    difficulty: 2
    question: "在一份五阶段迎国检计划中，“督查阶段”安排了哪些工作？（多选）"
    options: ["按国检标准、程序和办法进行模拟验收", "召开总结表彰大会", "召开经验交流和讲评现场会", "召开动员暨签约大会", "对各单位整改落实情况跟踪督办"]
    correct: [0, 2, 4]
    explanation: "督查阶段做三件事：模拟验收、跟踪督办、开经验交流和讲评现场会。动员签约属于第一阶段，总结表彰是最后阶段。"
    source: "000 第一篇"
  - id: q099
    type: multiple
    indicator: GZ
    difficulty: 2
    question: "在一份五阶段迎国检计划中，“宣传动员阶段”安排了哪些工作？（多选）"
    options: ["成立“两基”迎国检领导小组", "下发巩固提高“两基”成果的意见", "按国检标准进行模拟验收", "召开迎国检工作动员暨签约大会", "召开总结表彰大会", "举办校长和指标负责人培训会"]
    correct: [0, 1, 3, 5]
    explanation: "动员阶段先建机构、开动员签约会、下发意见、培训校长和指标负责人，让大家弄清标准、程序和建档方法。"
    source: "000 第一篇"
  - id: q131
    type: single
    indicator: JH
    difficulty: 2
    question: "衡量区内学校校际均衡状况时，小学差异系数的评估标准是？"
    options: ["≤0.75", "≤0.45", "≤0.65", "≤0.55"]
    correct: [2]
    explanation: "小学差异系数不超过0.65，初中不超过0.55，初中要求更严。"
    source: "004"
  - id: q132
    type: single
    indicator: JH
    difficulty: 2
    question: "衡量区内学校校际均衡状况时，初中差异系数的评估标准是？"
    options: ["≤0.55", "≤0.65", "≤0.45", "≤0.35"]
    correct: [0]
    explanation: "初中差异系数不超过0.55；小学是不超过0.65。"
    source: "004"
"""


def test_near_duplicates_are_found() -> None:
    """Twins the first shipped bank had (since merged or told apart) are detected."""
    pairs = {(a, b) for a, b, _ in near_duplicates(parse_yaml(OLD_TWINS).questions)}
    assert pairs == {("q087", "q093"), ("q096", "q099"), ("q131", "q132")}


def test_the_starter_bank_has_no_near_duplicates(starter: tuple[QuestionSpec, ...]) -> None:
    assert near_duplicates(starter) == []


def test_an_exact_count_has_that_many_key_points(starter: tuple[QuestionSpec, ...]) -> None:
    """"请说出七项重点内容" needs seven key points (the bank once had six)."""
    for q in _open(starter):
        said = re.search(r"说出(\d+)项", clean(q.text))
        if said and "至少" not in q.text:
            assert len(q.key_points) == int(said.group(1)), q.key


def test_every_key_point_appears_in_the_model_answer(starter: tuple[QuestionSpec, ...]) -> None:
    """Each word of a key point (synonyms aside) is in the model answer the drill shows."""
    lexicon = shipped()
    for q in _open(starter):
        answer = lexicon.canonical(clean(q.model_answer), q.key)
        for point in q.key_points:
            words = [w for w in cut(lexicon.canonical(clean(point), q.key)) if w not in STOPWORDS]
            missing = [w for w in words if w not in answer]
            assert not missing, f"{q.key}: {point} — {missing} not in the model answer"


def test_a_model_answer_scores_full_marks(starter: tuple[QuestionSpec, ...]) -> None:
    """Under the drill scorer, each model answer covers all of its own key points."""
    for q in _open(starter):
        result = score_answer(q.model_answer, q.key_points, question=q.text, question_key=q.key)
        assert result.missed == () and result.wrong == (), f"{q.key}: {result}"


def test_a_model_answer_does_not_pass_another_question(
    starter: tuple[QuestionSpec, ...],
) -> None:
    questions = _open(starter)
    for q in questions:
        for other in questions:
            if other is not q:
                result = score_answer(other.model_answer, q.key_points, question=q.text,
                                      question_key=q.key)
                assert not result.passed, f"{other.key}'s model answer passes {q.key}"


def test_n_of_m_questions_list_more_than_n(starter: tuple[QuestionSpec, ...]) -> None:
    for q in _open(starter):
        needed = required_points(q.text)
        if needed and "至少" in q.text:
            assert len(q.key_points) > needed, q.key


def test_the_right_option_is_not_the_long_one(starter: tuple[QuestionSpec, ...]) -> None:
    """A right answer much longer than every other option gives itself away."""
    for q in starter:
        if q.kind is QuestionKind.SINGLE:
            right = len(q.options[q.correct[0]])
            others = max(len(o) for i, o in enumerate(q.options) if i not in q.correct)
            assert right <= 1.8 * others, q.key
