"""Certification status: every threshold with its margin, vetoes from data, unknowns."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from bot.indicators.certification import CertificationInputs, CheckKind, certification_status
from bot.indicators.funding import BudgetYear, DisabledEnrolment, three_growths
from bot.indicators.records import Level, SchoolRecord
from bot.indicators.satisfaction import GroupResult
from bot.indicators.scoring import ItemMarks, full_marks, score_sheet
from bot.indicators.status import State
from tests.unit.indicator_factories import library, school

BASIC = library().standard("basic-balance-2012")
QUALITY = library().standard("quality-balance-2017")

GOOD = dict(teaching_area=400, sports_area=300, equipment_value=100000, computers=5,
            books=1000, teachers=5, qualified_teachers=4, senior_title_teachers=1)
BETTER = dict(teaching_area=600, sports_area=700, equipment_value=100000, computers=15,
              books=3000, teachers=5, qualified_teachers=6, senior_title_teachers=3)


def basic_county() -> list[SchoolRecord]:
    # Primary composite 0.2875 (see test_indicators_balance); junior: one school, CV 0.
    return [school("甲", 100, resources=GOOD), school("乙", 100, resources=BETTER),
            school("中", 300, Level.JUNIOR, resources=GOOD)]


def budgets() -> list[BudgetYear]:
    return [
        BudgetYear.of(2021, 100, 1000, 5000, 800),
        BudgetYear.of(2022, 110, 1050, 5200, 820),  # +10 % vs +5 %, both per-student rise
        BudgetYear.of(2023, 112, 1100, 5300, 830),  # +1.8 % vs +4.8 %: missed
        BudgetYear.of(2024, 125, 1150, 5100, 900),  # per-student expense fell: missed
    ]


def test_three_growths_missed_in_two_of_three_years_is_a_veto() -> None:
    g = three_growths(budgets())
    assert [y.year for y in g.years] == [2022, 2023, 2024]
    assert [y.state for y in g.years] == [State.MET, State.NOT_MET, State.NOT_MET]
    assert g.failed_years == (2023, 2024) and g.state is State.NOT_MET
    first = g.years[1].checks[0]
    assert first.rate == Fraction(112, 110) - 1 and first.compared_with == Fraction(1100, 1050) - 1


def test_three_growths_decided_by_the_years_that_are_known() -> None:
    # Only 2022–2024: 2022 has no previous year and is unknown; two years met settle it.
    later = [BudgetYear.of(2022, 110, 1050, 5200, 820), BudgetYear.of(2023, 121, 1060, 5300, 830),
             BudgetYear.of(2024, 133, 1070, 5400, 840)]
    g = three_growths(later)
    assert [y.state for y in g.years] == [State.UNKNOWN, State.MET, State.MET]
    assert g.state is State.MET
    one_missed = [*later[:2], BudgetYear.of(2024, 133, 1070, 5200, 840)]
    assert three_growths(one_missed).state is State.UNKNOWN  # 2022 would decide it
    assert three_growths([]).state is State.UNKNOWN


def test_status_of_a_county_with_every_input() -> None:
    marks = full_marks(library().sheets["government-effort-basic-2012"])
    marks["three_growths"] = ItemMarks({"growth_missed": 2})
    inputs = CertificationInputs(
        survey=[GroupResult("parents", 400, 350), GroupResult("teachers", 100, 95)],
        disabled=DisabledEnrolment(enrolled=45, population=50),
        budgets=[*budgets()[:3], BudgetYear.of(2024, 130, 1150, 5400, 900)],
        scores={"school_standards": Decimal("88.5")},
        sheets={"government_effort": score_sheet(library().sheets["government-effort-basic-2012"],
                                                 marks)},
        core_standard_failures={"甲": 1, "乙": 3},
        findings={"weak_school_renovation": False, "safety": False, "misused_funds": False,
                  "falsification": False},
    )
    status = certification_status(BASIC, basic_county(), inputs)
    composite = status.check("coefficient:primary:composite")
    assert composite.state is State.MET
    assert composite.value == Decimal("0.2875") and composite.margin == Decimal("0.3625")
    assert status.check("coefficient:junior:composite").value == 0
    assert status.check("assessment:government_effort").value == 96
    assert status.check("assessment:school_standards").margin == Decimal("3.5")
    disabled = status.check("veto:disabled_enrolment")
    assert disabled.value == Decimal("0.9") and disabled.state is State.MET
    assert status.check("veto:satisfaction").value == Decimal(445) / Decimal(500)
    assert status.check("veto:three_growths").state is State.MET  # only 2023 missed
    assert status.check("veto:core_standards").state is State.MET  # 3 of 13 is allowed
    assert status.state is State.MET
    assert len(status.vetoes) == 8


def test_missing_data_is_unknown_and_failures_are_listed() -> None:
    inputs = CertificationInputs(core_standard_failures={"甲": 4},
                                 findings={"safety": True})
    status = certification_status(BASIC, basic_county(), inputs)
    assert status.state is State.NOT_MET
    failed = {c.key for c in status.by_state(State.NOT_MET)}
    assert failed == {"veto:core_standards", "veto:safety"}
    unknown = {c.key for c in status.by_state(State.UNKNOWN)}
    assert unknown == {"assessment:school_standards", "assessment:government_effort",
                       "veto:weak_school_renovation", "veto:disabled_enrolment",
                       "veto:three_growths", "veto:satisfaction", "veto:misused_funds",
                       "veto:falsification"}
    assert all(c.reason == "no_data" for c in status.by_state(State.UNKNOWN))


def _quality_school(**overrides: int) -> dict[str, int]:
    base = dict(qualified_teachers=9, backbone_teachers=2, pe_art_teachers=2,
                teaching_area=1000, sports_area=1600, equipment_value=420000,
                multimedia_classrooms=5)
    base.update(overrides)
    return base


def test_quality_status_judges_every_coefficient_and_every_school() -> None:
    rows = [school("a", 200, resources=_quality_school()),
            school("b", 200, resources=_quality_school(teaching_area=700, sports_area=4800)),
            school("c", 300, Level.JUNIOR, resources=_quality_school(teaching_area=1800, sports_area=3100,
                                                                qualified_teachers=16,
                                                                backbone_teachers=3,
                                                                pe_art_teachers=3,
                                                                equipment_value=750000,
                                                                multimedia_classrooms=8))]
    status = certification_status(QUALITY, rows)
    coefficient_keys = [c.key for c in status.checks if c.kind is CheckKind.COEFFICIENT]
    assert len(coefficient_keys) == 14
    # Sports area 8 and 24 m² for equal enrolment: CV = 16 / 32 = 0.5 — exactly the limit.
    sports = status.check("coefficient:primary:sports_area")
    assert sports.value == Decimal("0.5") and sports.margin == 0 and sports.state is State.MET
    # Teaching area 5 and 3.5: CV = 1.5 / 8.5.
    teaching = status.check("coefficient:primary:teaching_area")
    assert teaching.state is State.MET
    assert teaching.value is not None and teaching.value.quantize(Decimal("0.0001")) == Decimal("0.1765")
    schools = status.check("schools:primary")
    assert schools.state is State.NOT_MET and schools.value == 1  # b: 3.5 < 0.85 × 4.5
    assert [s.record.school_id for s in status.balance.failing_schools] == ["b"]
    assert status.check("schools:junior").state is State.MET
    assert status.check("disabled_enrolment").state is State.UNKNOWN
    assert status.check("veto:satisfaction").kind is CheckKind.VETO
