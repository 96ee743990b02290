"""What the indicator data adds to the rectification ledger (整改台账).

`indicator_problems` gives one row per problem the data shows — a school below a minimum,
a coefficient over its threshold, a veto decided against the county, a self-assessment
item that lost points — with the fields the office's ledger has (问题, 整改措施, 责任单位,
责任人). `write_standard_sheets` adds a sheet per standard set with every school's
figures and shortfalls. The ledger (`bot.reports.ledger`) calls both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.indicators.balance import county_balance, indicator_value
from bot.indicators.certification import CheckKind
from bot.indicators.certify import certification_view, composite_drivers, link_for
from bot.indicators.data import Standards, build_records, load_county, sheet_score
from bot.indicators.numbers import round_half_up
from bot.indicators.schools import amount_needed, minimum_checks
from bot.indicators.status import State
from bot.texts import Texts
from db.models import Indicator
from db.repositories import indicators as repo


@cache
def default_standards() -> Standards:
    """The built-in library, read once per process when the ledger first needs it."""
    return Standards()


@dataclass(frozen=True)
class LedgerProblem:
    source: str  # minimum, coefficient, veto, self_assessment
    problem: str
    measure: str
    unit: str  # 责任单位 ("" for the county as a whole)
    unit_id: int | None
    leader: str | None  # the unit's leader: 责任领导 / 责任人
    indicator_code: str | None
    indicator_name: str | None
    veto: bool


def _num(value: Fraction | Decimal | None, places: int = 2) -> str:
    if value is None:
        return "—"
    exact = value if isinstance(value, Fraction) else Fraction(value)
    shown = round_half_up(exact, places)
    return f"{shown:,.{places}f}".rstrip("0").rstrip(".") if places else f"{shown:,}"


def _indicator(links: dict[str, Indicator], key: str) -> tuple[str | None, str | None, bool]:
    found = link_for(key, links)
    return (found.code, found.name, found.veto) if found else (None, None, False)


async def indicator_problems(session: AsyncSession, *, campaign_id: int, now: datetime,
                             texts: Texts, lang: str, unit_ids: frozenset[int] | None = None,
                             standards: Standards | None = None) -> list[LedgerProblem]:
    """The data's problems, vetoes first; `unit_ids` limits them to those units' schools
    (a principal's ledger), None gives the county's."""
    if await repo.settings_of(session=session, campaign_id=campaign_id) is None:
        return []
    standards = standards or default_standards()
    county = await load_county(session, standards, campaign_id)
    if county.year is None:
        return []
    view = await certification_view(session, standards, county, now)
    links = await repo.links_of(session=session, campaign_id=campaign_id)
    found: list[LedgerProblem] = []
    everything = unit_ids is None
    if everything:
        for item in view.ordered():
            check = item.check
            if check.state is not State.NOT_MET or check.kind is CheckKind.SCHOOL_RULE:
                continue
            code, name, veto = _indicator(links, check.key)
            value = _num(check.value, item.places) if check.value is not None else "—"
            limit = _num(check.threshold, item.places) if check.threshold is not None else "—"
            if check.kind is CheckKind.COEFFICIENT:
                drivers = "、".join(d.name for d in item.drivers) or "—"
                problem = texts.plain(lang, "indicators.ledger.coefficient", name=check.name,
                                      value=value, limit=limit)
                measure = texts.plain(lang, "indicators.ledger.coefficient_measure",
                                      schools=drivers)
            else:
                problem = texts.plain(lang, "indicators.ledger.check", name=check.name,
                                      value=value, limit=limit)
                measure = texts.plain(lang, "indicators.ledger.check_measure")
            found.append(LedgerProblem(check.kind.value, problem, measure, "", None, None, code,
                                       name, veto or check.kind is CheckKind.VETO))
    for school in county.schools:
        if not everything and school.unit_id not in (unit_ids or frozenset()):
            continue
        for record in county.records_of(school.unit_id):
            for short in minimum_checks(county.standard, record):
                if short.met is not False:
                    continue
                code, name, veto = _indicator(links, f"schools:{record.level}")
                resource = short.indicator.resource
                problem = texts.plain(
                    lang, "indicators.ledger.minimum", school=school.name, level=record.level.zh,
                    indicator=short.indicator.name, value=_num(short.value),
                    minimum=_num(short.minimum), unit=short.indicator.unit,
                    percent=short.shortfall_percent())
                measure = texts.plain(lang, "indicators.ledger.minimum_measure",
                                      resource=resource.name,
                                      amount=_num(amount_needed(short), 0), unit=resource.unit)
                found.append(LedgerProblem("minimum", problem, measure, school.name,
                                           school.unit_id, school.leader_name, code, name, veto))
    if everything:
        for assessment in county.standard.assessments:
            sheet = standards.library.sheet(county.standard, assessment.id)
            score = await sheet_score(session, standards, campaign_id, county.standard,
                                      assessment.id)
            if sheet is None or score is None:
                continue
            code, name, veto = _indicator(links, f"assessment:{assessment.id}")
            for lost in score.lost_items:
                reasons = "；".join(d.text for d, _ in lost.applied) or lost.note or "—"
                problem = texts.plain(lang, "indicators.ledger.item", sheet=sheet.title,
                                      item=lost.item.text, lost=_num(lost.lost, 1),
                                      points=_num(lost.item.points, 1))
                measure = texts.plain(lang, "indicators.ledger.item_measure", reasons=reasons)
                found.append(LedgerProblem("self_assessment", problem, measure, "", None, None,
                                           code, name, veto))
    found.sort(key=lambda p: not p.veto)
    return found


@cache
def _styles() -> tuple[Any, Any]:
    """The header font and the shortfall fill; openpyxl is loaded when a sheet is written."""
    from openpyxl.styles import Font, PatternFill

    return Font(bold=True), PatternFill(fill_type="solid", start_color="FFC7CE",
                                        end_color="FFC7CE")


def _cells(sheet: Any, values: Sequence[Any], fills: Sequence[bool] = (), bold: bool = False
           ) -> list[Any]:
    from openpyxl.cell import WriteOnlyCell

    header_font, short_fill = _styles()
    cells = []
    for index, value in enumerate(values):
        cell = WriteOnlyCell(sheet, value=value)
        if bold:
            cell.font = header_font
        if index < len(fills) and fills[index]:
            cell.fill = short_fill
        cells.append(cell)
    return cells


def _float(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 4)


async def write_standard_sheets(workbook: Any, session: AsyncSession, *, campaign_id: int,
                                texts: Texts, lang: str, unit_ids: frozenset[int] | None = None,
                                standards: Standards | None = None) -> int:
    """One sheet per standard set: each school's values, the county's, the shortfalls."""
    if await repo.settings_of(session=session, campaign_id=campaign_id) is None:
        return 0
    standards = standards or default_standards()
    county = await load_county(session, standards, campaign_id)
    if county.year is None:
        return 0
    written = 0
    for number, standard in enumerate(standards.all_with(county.standard), start=1):
        records, _ = build_records(standard, county.schools, county.figures, county.year,
                                   county.resources)
        title = texts.plain(lang, "indicators.ledger.sheet", number=number)[:31]
        sheet = workbook.create_sheet(title)
        sheet.append(_cells(sheet, [texts.plain(lang, "indicators.ledger.sheet_title",
                                                standard=standard.title, year=county.year)],
                            bold=True))
        header = [texts.plain(lang, "indicators.ledger.col_school"),
                  texts.plain(lang, "indicators.ledger.col_level"),
                  texts.plain(lang, "indicators.ledger.col_students"),
                  *(f"{i.name}（{i.unit}）" for i in standard.indicators),
                  texts.plain(lang, "indicators.ledger.col_share"),
                  texts.plain(lang, "indicators.ledger.col_short")]
        sheet.append(_cells(sheet, header, bold=True))
        balance = county_balance(standard, records) if records else None
        for level in standard.levels:
            shares = ({d.name: d.share for d in composite_drivers(balance.level(level))}
                      if balance is not None else {})
            for record in (r for r in records if r.level is level):
                if unit_ids is not None and int(record.school_id) not in unit_ids:
                    continue
                checks = {c.indicator.id: c for c in minimum_checks(standard, record)}
                values = [indicator_value(i, record) for i in standard.indicators]
                short = [c for c in checks.values() if c.met is False]
                notes = "；".join(texts.plain(lang, "indicators.ledger.short_note",
                                             indicator=c.indicator.name, value=_num(c.value),
                                             minimum=_num(c.minimum)) for c in short)
                share = shares.get(record.name)
                row = [record.name, level.zh, record.students, *map(_float, values),
                       None if share is None else round(float(share), 4), notes or None]
                fills = [False, False, False,
                         *(checks.get(i.id) is not None and checks[i.id].met is False
                           for i in standard.indicators)]
                sheet.append(_cells(sheet, row, fills))
            if balance is not None and unit_ids is None:
                lb = balance.level(level)
                sheet.append(_cells(sheet, [texts.plain(lang, "indicators.ledger.county_value",
                                                        level=level.zh), None, lb.dispersions[0].students,
                                            *(_float(d.mean) for d in lb.dispersions)], bold=True))
                sheet.append(_cells(sheet, [texts.plain(lang, "indicators.ledger.county_cv",
                                                        level=level.zh), None, None,
                                            *(None if d.cv is None else round(float(d.cv), 4)
                                              for d in lb.dispersions)], bold=True))
        written += 1
    return written
