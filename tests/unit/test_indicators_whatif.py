"""What-if: a change to one school, every coefficient before → after."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from bot.core.errors import InvalidInput, NotFound
from bot.indicators.records import Level, SchoolRecord, split_nine_year
from bot.indicators.status import State
from bot.indicators.whatif import Change, apply_changes, what_if
from tests.unit.indicator_factories import library, school

BASIC = library().standard("basic-balance-2012")
SAME = dict(sports_area=1600, equipment_value=400000, books=5000, teachers=12,
            qualified_teachers=11, senior_title_teachers=6)


def county() -> list[SchoolRecord]:
    # Equal enrolment, so each CV is |a − b| / (a + b).
    return [school("石门镇中心小学", 200, teaching_area=600, computers=10, resources=SAME),
            school("城关小学", 200, teaching_area=1200, computers=30, resources=SAME)]


def q4(value: Decimal | None) -> Decimal:
    assert value is not None
    return value.quantize(Decimal("0.0001"))


def test_adding_space_and_computers_to_one_school() -> None:
    result = what_if(BASIC, county(), [Change.of("石门镇中心小学", "teaching_area", 300),
                                       Change.of("石门镇中心小学", "computers", 20)])
    rows = {(d.level, d.indicator.id if d.indicator else None): d for d in result.coefficients}
    teaching = rows[(Level.PRIMARY, "teaching_area")]
    assert q4(teaching.before) == Decimal("0.3333")  # 3 vs 6 m²
    assert q4(teaching.after) == Decimal("0.1429")  # 4.5 vs 6 m²
    computers = rows[(Level.PRIMARY, "computers")]
    assert q4(computers.before) == Decimal("0.5000") and computers.after == 0  # 5 vs 15 → 15 vs 15
    assert teaching.state_before is None  # a basic set judges only the composite
    composite = rows[(Level.PRIMARY, None)]
    assert q4(composite.before) == Decimal("0.1042")  # (1/3 + 1/2) / 8
    assert q4(composite.after) == Decimal("0.0179")  # (1/7) / 8
    assert composite.state_after is State.MET
    difference = composite.difference
    assert difference is not None and difference < 0
    # The records given are left as they were.
    assert county()[0].amount("teaching_area") == 600


def test_a_nine_year_school_needs_the_level() -> None:
    primary, junior = split_nine_year(
        school_id="九年制", name="九年制学校", year=2024,
        students={Level.PRIMARY: 100, Level.JUNIOR: 100}, shared={"books": 2100},
        own={Level.PRIMARY: {"teachers": 6}, Level.JUNIOR: {"teachers": 8}},
        weights=BASIC.nine_year_split)
    with pytest.raises(InvalidInput):
        apply_changes([primary, junior], [Change.of("九年制", "books", 100)])
    changed = apply_changes([primary, junior], [Change.of("九年制", "books", 100, Level.JUNIOR)])
    assert changed[0].amount("books") == 1000 and changed[1].amount("books") == 1200


def test_bad_changes_are_refused() -> None:
    with pytest.raises(NotFound):
        apply_changes(county(), [Change.of("不存在", "books", 1)])
    with pytest.raises(InvalidInput):
        apply_changes(county(), [Change.of("城关小学", "computers", -31)])
    with pytest.raises(InvalidInput):
        apply_changes(county(), [Change.of("城关小学", "music_rooms", 1)])


def test_enrolment_can_change_too() -> None:
    (first, _) = apply_changes(county(), [Change.of("石门镇中心小学", "students", -50)])
    assert first.students == 150
    with pytest.raises(InvalidInput):
        apply_changes(county(), [Change("石门镇中心小学", "students", Fraction(1, 2))])
