"""Will the county pass? Every threshold of a standard set, met or not and by how much,
from the school records of one year and whatever other data the office has.

A check is MET when its requirement holds (for a veto item: when the vetoing situation is
absent), NOT_MET when it fails, and UNKNOWN when no data decides it yet; the later round
links the unknown ones to the tasks that will produce their data.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from bot.indicators.balance import CountyBalance, Dispersion, county_balance
from bot.indicators.funding import BudgetYear, DisabledEnrolment, ThreeGrowths, three_growths
from bot.indicators.numbers import Number, exact, to_decimal
from bot.indicators.records import Level, SchoolRecord
from bot.indicators.satisfaction import GroupResult, SatisfactionResult, satisfaction_rate
from bot.indicators.scoring import SheetScore
from bot.indicators.standards import SetKind, StandardSet, VetoData, VetoItem
from bot.indicators.status import State, worst


class CheckKind(enum.StrEnum):
    COEFFICIENT = "coefficient"
    SCHOOL_RULE = "school_rule"
    ASSESSMENT = "assessment"
    SATISFACTION = "satisfaction"
    DISABLED_ENROLMENT = "disabled_enrolment"
    VETO = "veto"


@dataclass(frozen=True)
class Check:
    """One threshold. `margin` is the room left (positive) or the shortfall (negative)."""

    key: str  # stable: "coefficient:primary:composite", "veto:three_growths", …
    kind: CheckKind
    name: str
    state: State
    value: Decimal | None = None
    threshold: Decimal | None = None
    margin: Decimal | None = None
    level: Level | None = None
    indicator: str | None = None
    reason: str = ""  # why unknown or not met, as a short machine-readable word


@dataclass(frozen=True)
class CertificationInputs:
    """What the office knows beyond the school records; anything absent stays unknown."""

    survey: Sequence[GroupResult] | None = None
    disabled: DisabledEnrolment | None = None
    budgets: Sequence[BudgetYear] | None = None
    # Assessment id → the county's score, or the scored self-assessment sheet.
    scores: Mapping[str, Number] = field(default_factory=dict)
    sheets: Mapping[str, SheetScore] = field(default_factory=dict)
    # School id → how many of the core standards the school fails.
    core_standard_failures: Mapping[str, int] | None = None
    # Veto id → True when the office found the vetoing situation, False when it checked
    # and found none; used for the items no data decides.
    findings: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class CertificationStatus:
    standard: StandardSet
    year: int
    balance: CountyBalance
    checks: tuple[Check, ...]
    satisfaction: SatisfactionResult | None = None
    growths: ThreeGrowths | None = None

    @property
    def state(self) -> State:
        return worst(c.state for c in self.checks)

    @property
    def vetoes(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.kind is CheckKind.VETO)

    def by_state(self, state: State) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.state is state)

    def check(self, key: str) -> Check:
        for c in self.checks:
            if c.key == key:
                return c
        raise KeyError(key)


def _at_most(value: Decimal | None, threshold: Fraction) -> tuple[Decimal | None, Decimal | None]:
    limit = to_decimal(threshold)
    return limit, None if value is None else limit - value


def _coefficient_check(d: Dispersion, threshold: Fraction) -> Check:
    limit, margin = _at_most(d.cv, threshold)
    reason = d.undefined.value if d.undefined else "" if d.complete else "missing_figures"
    return Check(f"coefficient:{d.level}:{d.indicator.id}", CheckKind.COEFFICIENT,
                 f"{d.level.zh}{d.indicator.name}差异系数", d.state(threshold), d.cv, limit, margin,
                 d.level, d.indicator.id, reason)


def _rate_check(key: str, kind: CheckKind, name: str, rate: Fraction | None,
                minimum: Fraction, state: State, reason: str = "") -> Check:
    value = None if rate is None else to_decimal(rate)
    margin = None if rate is None else to_decimal(rate - minimum)
    return Check(key, kind, name, state, value, to_decimal(minimum), margin,
                 reason=reason or ("no_data" if state is State.UNKNOWN else ""))


def _balance_checks(standard: StandardSet, balance: CountyBalance) -> list[Check]:
    checks: list[Check] = []
    for lb in balance.levels:
        threshold = standard.threshold(lb.level)
        if standard.kind is SetKind.BASIC:
            limit, margin = _at_most(lb.composite, threshold)
            undefined = [d for d in lb.dispersions if d.undefined]
            reason = (undefined[0].undefined.value if undefined and undefined[0].undefined
                      else "" if lb.complete else "missing_figures")
            checks.append(Check(f"coefficient:{lb.level}:composite", CheckKind.COEFFICIENT,
                                f"{lb.level.zh}综合差异系数", lb.composite_state(threshold),
                                lb.composite, limit, margin, lb.level, None, reason))
        else:
            checks.extend(_coefficient_check(d, threshold) for d in lb.dispersions)
    if standard.kind is SetKind.QUALITY:
        for level in standard.levels:
            schools = [s for s in balance.schools if s.record.level is level]
            failing = sum(1 for s in schools if s.state is State.NOT_MET)
            state = worst(s.state for s in schools) if schools else State.UNKNOWN
            checks.append(Check(f"schools:{level}", CheckKind.SCHOOL_RULE,
                                f"{level.zh}学校达到配置标准", state, Decimal(failing), Decimal(0),
                                Decimal(-failing), level,
                                reason="schools_failing" if failing else
                                ("no_schools" if not schools else "")))
    return checks


def _core_standards_state(standard: StandardSet, failures: Mapping[str, int] | None
                          ) -> tuple[State, Decimal | None]:
    core = standard.core_standards
    if failures is None or core is None:
        return State.UNKNOWN, None
    worst_school = max(failures.values(), default=0)
    return (State.NOT_MET if worst_school > core.max_failed else State.MET), Decimal(worst_school)


def certification_status(
    standard: StandardSet,
    records: Sequence[SchoolRecord],
    inputs: CertificationInputs | None = None,
) -> CertificationStatus:
    """The structured answer to "will we pass?" for one county and school year."""
    given = inputs or CertificationInputs()
    balance = county_balance(standard, records)
    checks = _balance_checks(standard, balance)

    for assessment in standard.assessments:
        key = f"assessment:{assessment.id}"
        limit = to_decimal(assessment.pass_score)
        sheet = given.sheets.get(assessment.id)
        if sheet is not None:
            total = sheet.total
            checks.append(Check(key, CheckKind.ASSESSMENT, assessment.name, sheet.state,
                                to_decimal(total), limit, to_decimal(total - assessment.pass_score),
                                reason="" if sheet.state is not State.UNKNOWN else "unassessed_items"))
        elif assessment.id in given.scores:
            score = exact(given.scores[assessment.id])
            state = State.MET if score >= assessment.pass_score else State.NOT_MET
            checks.append(Check(key, CheckKind.ASSESSMENT, assessment.name, state,
                                to_decimal(score), limit, to_decimal(score - assessment.pass_score)))
        else:
            checks.append(Check(key, CheckKind.ASSESSMENT, assessment.name, State.UNKNOWN,
                                threshold=limit, reason="no_data"))

    satisfaction = None
    if standard.satisfaction is not None and given.survey is not None:
        satisfaction = satisfaction_rate(standard.satisfaction, given.survey)
    growths = None
    if given.budgets is not None:
        growths = three_growths(given.budgets, last_year=balance.year or None)

    veto_on = {v.decided_by for v in standard.vetoes if v.decided_by is not None}
    if standard.satisfaction is not None and VetoData.SATISFACTION not in veto_on:
        checks.append(_satisfaction_check("satisfaction", CheckKind.SATISFACTION, "公众满意度",
                                          standard, satisfaction))
    if standard.disabled_enrolment_min is not None and VetoData.DISABLED_ENROLMENT not in veto_on:
        checks.append(_disabled_check("disabled_enrolment", CheckKind.DISABLED_ENROLMENT,
                                      "残疾儿童少年入学率", standard, given.disabled))
    for veto in standard.vetoes:
        checks.append(_veto_check(veto, standard, given, satisfaction, growths))
    return CertificationStatus(standard, balance.year, balance, tuple(checks), satisfaction, growths)


def _satisfaction_check(key: str, kind: CheckKind, name: str, standard: StandardSet,
                        result: SatisfactionResult | None) -> Check:
    assert standard.satisfaction is not None
    if result is None:
        return _rate_check(key, kind, name, None, standard.satisfaction.min_rate, State.UNKNOWN)
    return _rate_check(key, kind, name, result.rate, result.min_rate, result.state, result.reason)


def _disabled_check(key: str, kind: CheckKind, name: str, standard: StandardSet,
                    disabled: DisabledEnrolment | None) -> Check:
    minimum = standard.disabled_enrolment_min
    assert minimum is not None
    if disabled is None:
        return _rate_check(key, kind, name, None, minimum, State.UNKNOWN)
    return _rate_check(key, kind, name, disabled.rate, minimum, disabled.state(minimum))


def _veto_check(veto: VetoItem, standard: StandardSet, given: CertificationInputs,
                satisfaction: SatisfactionResult | None, growths: ThreeGrowths | None) -> Check:
    key = f"veto:{veto.id}"
    data = veto.decided_by
    if data is VetoData.SATISFACTION:
        return _satisfaction_check(key, CheckKind.VETO, veto.name, standard, satisfaction)
    if data is VetoData.DISABLED_ENROLMENT:
        return _disabled_check(key, CheckKind.VETO, veto.name, standard, given.disabled)
    if data is VetoData.THREE_GROWTHS and growths is not None:
        failed = len(growths.failed_years)
        return Check(key, CheckKind.VETO, veto.name, growths.state, Decimal(failed),
                     Decimal(growths.max_failed), Decimal(growths.max_failed - failed),
                     reason={State.NOT_MET: "years_failed", State.UNKNOWN: "years_unknown"}
                     .get(growths.state, ""))
    if data is VetoData.CORE_STANDARDS and given.core_standard_failures is not None:
        state, value = _core_standards_state(standard, given.core_standard_failures)
        core = standard.core_standards
        limit = Decimal(core.max_failed) if core else None
        margin = None if value is None or limit is None else limit - value
        return Check(key, CheckKind.VETO, veto.name, state, value, limit, margin,
                     reason="school_fails_core" if state is State.NOT_MET else "")
    finding = given.findings.get(veto.id)
    if finding is None:
        return Check(key, CheckKind.VETO, veto.name, State.UNKNOWN, reason="no_data")
    return Check(key, CheckKind.VETO, veto.name, State.NOT_MET if finding else State.MET,
                 reason="found" if finding else "")
