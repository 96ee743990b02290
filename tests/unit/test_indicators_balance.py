"""The 差异系数 and the per-school minimums, against hand-worked examples."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from bot.core.errors import InvalidInput
from bot.indicators.balance import (
    Exclusion,
    Undefined,
    county_balance,
    dispersion,
    school_compliance,
)
from bot.indicators.numbers import round_half_up, sqrt_round_half_up
from bot.indicators.records import Level, SchoolRecord, split_nine_year
from bot.indicators.status import State
from tests.unit.indicator_factories import library, school

BASIC = library().standard("basic-balance-2012")
QUALITY = library().standard("quality-balance-2017")
BOOKS = BASIC.indicator("books")


def q4(value: Fraction) -> Decimal:
    return round_half_up(value, 4)


def published_five_schools() -> list[SchoolRecord]:
    # The worked example of the method's explanatory notes: five primary schools.
    students = (45, 37, 89, 76, 55)
    books = (279, 137, 935, 160, 402)
    return [school(f"小学{i + 1}", n, books=b) for i, (n, b) in enumerate(zip(students, books, strict=True))]


def test_published_example_gives_the_published_coefficient() -> None:
    d = dispersion(BOOKS, published_five_schools(), Level.PRIMARY)
    assert d.students == 302 and d.total == 1913
    assert d.mean is not None and q4(d.mean) == Decimal("6.3344")
    assert round_half_up(d.sum_deviation, 2) == Decimal("10.65")
    assert q4(d.sum_deviation) == Decimal("10.6528")
    assert d.cv_display(4) == Decimal("0.5153")
    assert d.cv_display(2) == Decimal("0.52")
    # Each school's 差异情况 as the example lists them (0.003, 0.85, 5.13, 4.50, 0.17).
    by_school = {s.school_id: s for s in d.schools}
    assert [round_half_up(by_school[f"小学{i}"].deviation, 2) for i in range(1, 6)] == [
        Decimal("0.00"), Decimal("0.85"), Decimal("5.13"), Decimal("4.50"), Decimal("0.17")]


def test_contributions_rank_the_schools_that_pull_the_coefficient_up() -> None:
    d = dispersion(BOOKS, published_five_schools(), Level.PRIMARY)
    assert [s.school_id for s in d.schools] == ["小学3", "小学4", "小学2", "小学5", "小学1"]
    assert sum(s.share for s in d.schools) == 1
    assert q4(d.schools[0].share) == Decimal("0.4813")
    assert d.schools[0].above_mean and not d.schools[1].above_mean


def test_one_school_and_equal_schools_give_zero() -> None:
    alone = dispersion(BOOKS, [school("a", 120, books=2500)], Level.PRIMARY)
    assert alone.cv_squared == 0 and alone.cv_display(4) == Decimal("0.0000")
    equal = dispersion(BOOKS, [school("a", 100, books=2000), school("b", 40, books=800),
                               school("c", 7, books=140)], Level.PRIMARY)
    assert equal.cv_squared == 0 and equal.state(Fraction(1, 2)) is State.MET


def test_a_school_without_students_is_left_out_and_listed() -> None:
    rows = [*published_five_schools(), school("空校", 0, books=500)]
    balance = county_balance(BASIC, rows)
    d = balance.level(Level.PRIMARY).dispersion("books")
    assert d.cv_display(4) == Decimal("0.5153")
    assert [(e.school_id, e.reason) for e in d.excluded] == [("空校", Exclusion.NO_STUDENTS)]
    assert d.complete


def test_no_resource_anywhere_leaves_the_coefficient_undefined_not_met() -> None:
    d = dispersion(BASIC.indicator("computers"),
                   [school("a", 100, computers=0), school("b", 50, computers=0)], Level.PRIMARY)
    assert d.undefined is Undefined.MEAN_ZERO and d.cv is None
    assert d.state(Fraction(65, 100)) is State.UNKNOWN


def test_a_missing_figure_makes_the_coefficient_unknown() -> None:
    rows = [school("a", 100, books=2000), school("b", 100)]
    d = dispersion(BOOKS, rows, Level.PRIMARY)
    assert [(e.school_id, e.reason) for e in d.excluded] == [("b", Exclusion.MISSING_FIGURE)]
    assert d.cv_squared == 0 and d.state(Fraction(1)) is State.UNKNOWN


def test_nine_year_school_reports_two_parts_and_splits_shared_resources() -> None:
    primary, junior = split_nine_year(
        school_id="九年制", name="九年制学校", year=2024,
        students={Level.PRIMARY: 100, Level.JUNIOR: 100},
        shared={"books": 2100}, own={Level.PRIMARY: {"teachers": 6}, Level.JUNIOR: {"teachers": 8}},
        weights=BASIC.nine_year_split)
    assert (primary.school_id, primary.level) == ("九年制", Level.PRIMARY)
    assert (junior.school_id, junior.level) == ("九年制", Level.JUNIOR)
    # 100 primary : 100 × 1.1 junior.
    assert primary.amount("books") == 1000 and junior.amount("books") == 1100
    assert primary.amount("teachers") == 6 and junior.amount("teachers") == 8
    rows = [primary, junior, school("城关小学", 100, books=3000),
            school("城关中学", 50, Level.JUNIOR, books=1650)]
    balance = county_balance(BASIC, rows)
    # Primary: values 10 and 30 around x̄ = 20 → Σ = 100, CV = 10 / 20.
    p = balance.level(Level.PRIMARY).dispersion("books")
    assert p.mean == 20 and p.sum_deviation == 100 and p.cv_display(4) == Decimal("0.5000")
    # Junior: 11 and 33, x̄ = 2750 / 150 = 18.3333, Σ = 107.5556, CV = √0.32 = 0.5657.
    j = balance.level(Level.JUNIOR).dispersion("books")
    assert j.mean is not None and q4(j.mean) == Decimal("18.3333")
    assert q4(j.sum_deviation) == Decimal("107.5556")
    assert j.cv_squared == Fraction(8, 25) and j.cv_display(4) == Decimal("0.5657")


def test_split_matches_the_provincial_notes_example() -> None:
    # 166 primary and 210 junior students share 23,226 books (published: 9,711 primary).
    primary, junior = split_nine_year(
        school_id="x", name="x", year=2024, students={Level.PRIMARY: 166, Level.JUNIOR: 210},
        shared={"books": 23226}, own={}, weights=BASIC.nine_year_split)
    assert primary.amount("books") is not None and junior.amount("books") is not None
    assert q4(primary.amount("books") or Fraction(0)) == Decimal("9711.6272")  # 3,855,516 / 397
    assert (primary.amount("books") or 0) + (junior.amount("books") or 0) == 23226


def test_teachers_are_not_split() -> None:
    with pytest.raises(InvalidInput):
        split_nine_year(school_id="x", name="x", year=2024,
                        students={Level.PRIMARY: 1, Level.JUNIOR: 1}, shared={"teachers": 3},
                        own={}, weights=BASIC.nine_year_split)


def _two_school_county() -> list[SchoolRecord]:
    # Two primary schools of 100 students each: for equal enrolment CV = |a − b| / (a + b).
    a = dict(teaching_area=400, sports_area=300, equipment_value=100000, computers=5,
             books=1000, teachers=5, qualified_teachers=4, senior_title_teachers=1)
    b = dict(teaching_area=600, sports_area=700, equipment_value=100000, computers=15,
             books=3000, teachers=5, qualified_teachers=6, senior_title_teachers=3)
    return [school("甲", 100, resources=a), school("乙", 100, resources=b)]


def test_composite_is_the_mean_of_the_eight_coefficients() -> None:
    level = county_balance(BASIC, _two_school_county()).level(Level.PRIMARY)
    expected = {"teaching_area": "0.2000", "sports_area": "0.4000", "equipment_value": "0.0000",
                "computers": "0.5000", "books": "0.5000", "teacher_ratio": "0.0000",
                "qualified_teachers": "0.2000", "senior_title_teachers": "0.5000"}
    assert {d.indicator.id: str(d.cv_display(4)) for d in level.dispersions} == expected
    assert level.composite == Decimal("0.2875")
    assert level.composite_state(Fraction(65, 100)) is State.MET
    assert level.composite_state(Fraction(28, 100)) is State.NOT_MET


def test_threshold_is_decided_on_the_exact_value_not_the_rounded_one() -> None:
    # Equal enrolment: CV = (16504 − 3496) / (16504 + 3496) = 0.6504, published as 0.65.
    d = dispersion(BOOKS, [school("a", 100, books=3496), school("b", 100, books=16504)],
                   Level.PRIMARY)
    assert d.cv_squared == Fraction(6504, 10000) ** 2
    assert d.cv_display(2) == Decimal("0.65")
    assert d.state(Fraction(65, 100)) is State.NOT_MET
    assert d.state(Fraction(6504, 10000)) is State.MET


def _quality_school(**overrides: int) -> dict[str, int]:
    # 200 students: every value meets the primary minimum except teaching area (4.0 < 4.5).
    base = dict(qualified_teachers=9, backbone_teachers=2, pe_art_teachers=2,
                teaching_area=800, sports_area=1600, equipment_value=420000,
                multimedia_classrooms=5)
    base.update(overrides)
    return base


def test_six_of_seven_with_the_seventh_above_85_percent_passes() -> None:
    c = school_compliance(QUALITY, school("a", 200, resources=_quality_school()))
    assert c.met_count == 6 and c.state is State.MET
    (short,) = c.unmet
    assert short.indicator.id == "teaching_area"
    assert short.value == 4 and short.shortfall == Fraction(1, 2)
    assert short.shortfall_percent(1) == Decimal("11.1")
    assert short.resource_needed == 100  # m² for 200 students to reach 4.5
    assert short.above_floor  # 4.0 ≥ 0.85 × 4.5 = 3.825


def test_below_85_percent_or_two_unmet_fails() -> None:
    below_floor = school_compliance(QUALITY, school("a", 200, resources=_quality_school(teaching_area=700)))
    assert below_floor.state is State.NOT_MET
    assert [c.indicator.id for c in below_floor.below_floor] == ["teaching_area"]
    two_unmet = school_compliance(QUALITY, school("b", 200, resources=_quality_school(sports_area=1400)))
    assert two_unmet.met_count == 5 and not two_unmet.below_floor
    assert two_unmet.state is State.NOT_MET


def test_per_hundred_indicators_use_the_hundred() -> None:
    c = school_compliance(QUALITY, school("a", 200, resources=_quality_school()))
    values = {check.indicator.id: check.value for check in c.checks}
    assert values["multimedia_classrooms"] == Fraction(5, 2)  # 5 rooms per 200 → 2.5 per 100
    assert values["equipment_value"] == 2100


def test_records_of_two_years_or_twice_the_same_school_are_refused() -> None:
    with pytest.raises(InvalidInput):
        county_balance(BASIC, [school("a", 10, year=2023), school("b", 10, year=2024)])
    with pytest.raises(InvalidInput):
        county_balance(BASIC, [school("a", 10), school("a", 12)])


def test_small_teaching_points_leave_when_the_set_says_so() -> None:
    from dataclasses import replace

    hebei = replace(QUALITY, teaching_point_min_students=50)
    point = replace(school("点", 30, resources=_quality_school()), teaching_point=True)
    balance = county_balance(hebei, [point, school("a", 200, resources=_quality_school())])
    assert [e.reason for _, e in balance.excluded] == [Exclusion.SMALL_TEACHING_POINT]
    assert [s.record.school_id for s in balance.schools] == ["a"]


@pytest.mark.parametrize(("square", "places", "expected"), [
    (Fraction(4225, 10000), 2, "0.65"),  # √0.4225 = 0.65 exactly
    (Fraction(25, 10000), 1, "0.1"),  # √0.0025 = 0.05: a tie, rounded up
    (Fraction(24999, 10**7), 1, "0.0"),  # just under the tie
    (Fraction(2), 4, "1.4142"),
])
def test_roots_round_half_up_from_the_exact_square(square: Fraction, places: int,
                                                   expected: str) -> None:
    assert sqrt_round_half_up(square, places) == Decimal(expected)
