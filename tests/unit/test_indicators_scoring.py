"""The self-assessment sheet: totals against 85 and the items that lost points."""

from __future__ import annotations

from fractions import Fraction

import pytest

from bot.core.errors import InvalidInput
from bot.indicators.scoring import ItemMarks, ScoringSheet, full_marks, score_sheet
from bot.indicators.status import State
from tests.unit.indicator_factories import library

BASIC = library().standard("basic-balance-2012")
SHEET = library().sheet(BASIC, "government_effort")


def sheet() -> ScoringSheet:
    assert SHEET is not None
    return SHEET


def test_the_sheet_is_worth_100_and_passes_at_85() -> None:
    s = sheet()
    assert s.total == 100 and s.pass_score == 85 and len(s.items) == 17
    assert [name for _, name in s.sections] == ["入学机会", "保障机制", "教师队伍", "质量与管理"]
    assert score_sheet(s, full_marks(s)).total == 100


def test_deductions_once_each_and_whole_item() -> None:
    marks = full_marks(sheet())
    marks["disabled_children"] = ItemMarks({"per_point_below": 3})  # 6 − 3
    marks["three_growths"] = ItemMarks({"not_separate": 1, "growth_missed": 2})  # 8 − 2 − 4
    marks["left_behind_children"] = ItemMarks({"none": 1})  # 4 → 0
    result = score_sheet(sheet(), marks)
    assert result.total == 100 - 3 - 6 - 4
    assert result.state is State.MET
    assert [(i.item.id, i.lost) for i in result.lost_items] == [
        ("three_growths", Fraction(6)), ("left_behind_children", Fraction(4)),
        ("disabled_children", Fraction(3))]
    sections = result.section_totals()
    assert sections["access"] == (Fraction(20 - 3 - 4), Fraction(20))
    assert sections["funding"] == (Fraction(30 - 6), Fraction(30))


def test_an_item_never_goes_below_zero_and_the_total_can_fail() -> None:
    marks = full_marks(sheet())
    marks["three_growths"] = ItemMarks({"growth_missed": 9})
    marks["dropout"] = ItemMarks({"above_limit": 1})
    marks["regulated_admission"] = ItemMarks({"key_classes": 1})
    result = score_sheet(sheet(), marks)
    assert {i.item.id: i.score for i in result.items if i.lost} == {
        "three_growths": 0, "dropout": 0, "regulated_admission": 0}
    assert result.total == 100 - 8 - 9 - 8 == 75
    assert result.state is State.NOT_MET


def test_unassessed_items_leave_the_result_open_until_it_is_decided() -> None:
    s = sheet()
    few = {"migrant_children": ItemMarks({}), "three_growths": ItemMarks({"growth_missed": 4})}
    open_result = score_sheet(s, few)
    assert open_result.total == 5 and open_result.best_possible == 100 - 8
    assert open_result.state is State.UNKNOWN
    # Losing 16 points among the assessed items already rules out 85.
    hopeless = {"three_growths": ItemMarks({"growth_missed": 4}),
                "dropout": ItemMarks({"above_limit": 1})}
    assert score_sheet(s, hopeless).state is State.NOT_MET
    # 85 points already scored: the rest cannot take them away.
    marks = full_marks(s)
    for item_id in ("dropout", "quota_allocation"):  # 9 + 5 points open, 86 scored
        del marks[item_id]
    assert score_sheet(s, marks).state is State.MET


@pytest.mark.parametrize("marks", [
    {"nonexistent": ItemMarks({})},
    {"dropout": ItemMarks({"nonexistent": 1})},
    {"dropout": ItemMarks({"no_mechanism": 2})},  # not an `each` deduction
])
def test_bad_marks_are_refused(marks: dict[str, ItemMarks]) -> None:
    with pytest.raises(InvalidInput):
        score_sheet(sheet(), marks)
