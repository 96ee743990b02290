"""The bank file: Telegram's poll limits, row-level errors, YAML and CSV both ways."""

from __future__ import annotations

import pytest
from telegram.constants import PollLimit

from bot.quiz.bank import (
    MAX_OPTIONS,
    STARTER_BANK,
    BankInvalid,
    parse_csv,
    parse_yaml,
    to_csv,
    to_yaml,
)
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
