"""One school's figures as its principal sees them, and their corrections.

A principal is the leader of a school unit: they see and correct their own school. The
office sees and corrects every school; the leading group sees every school; anyone else
sees none. Every correction goes into the history with who and when.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.access import Actor
from bot.core.errors import InvalidInput, NotFound, PermissionDenied
from bot.core.parsing import shown
from bot.indicators.balance import (
    Dispersion,
    MinimumCheck,
    county_balance,
    indicator_value,
)
from bot.indicators.certify import active_campaign_id, composite_drivers
from bot.indicators.data import (
    County,
    FigureEdit,
    SchoolInfo,
    Standards,
    load_county,
    save_figures,
)
from bot.indicators.names import STUDENTS, UNIT_WORDS, Vocabulary, fold, is_count
from bot.indicators.numbers import ceil_to_step
from bot.indicators.parsing import Requested, SchoolName, parse_corrections
from bot.indicators.records import Level, Resource, SchoolRecord
from bot.indicators.standards import IndicatorDef, SetKind, StandardSet
from db.models import FigurePart, SchoolEditPrompt, SchoolFigureChange, SchoolLevel
from db.repositories import indicators as repo

HISTORY = 5


# Who may see and change what --------------------------------------------------------------
@dataclass(frozen=True)
class Access:
    schools: tuple[int, ...]  # the schools this person leads
    sees_all: bool
    edits_all: bool

    def can_view(self, unit_id: int) -> bool:
        return self.sees_all or unit_id in self.schools

    def can_edit(self, unit_id: int) -> bool:
        return self.edits_all or unit_id in self.schools


async def access_of(session: AsyncSession, actor: Actor) -> Access:
    led = tuple(await repo.schools_led_by(session=session, person_id=actor.person_id))
    access = Access(led, actor.sees_everything, actor.is_admin)
    if not (access.sees_all or access.schools):
        raise PermissionDenied("indicators.school_forbidden")
    return access


# Minimums --------------------------------------------------------------------------------
def minimum_checks(standard: StandardSet, record: SchoolRecord) -> list[MinimumCheck]:
    """The record against every minimum the set gives for its level. A quality set lets
    the rest stay at its floor share; a basic set's minimums (a province's school standard)
    must each be met."""
    floor = standard.minimums.floor if standard.minimums is not None else Fraction(1)
    return [MinimumCheck(i, indicator_value(i, record), i.minimum[record.level], floor,
                         record.students)
            for i in standard.indicators if record.level in i.minimum]


def amount_needed(check: MinimumCheck) -> Fraction:
    """The resource to add for the minimum, in whole steps of the resource."""
    return ceil_to_step(check.resource_needed, check.indicator.resource.step)


# The view --------------------------------------------------------------------------------
@dataclass(frozen=True)
class IndicatorLine:
    indicator: IndicatorDef
    value: Fraction | None
    county_value: Fraction | None
    share: Fraction | None  # of Σ 差异情况 of this indicator
    minimum: MinimumCheck | None


@dataclass(frozen=True)
class PartView:
    level: Level
    students: int
    composite_share: Fraction | None
    composite_rank: int | None
    composite_count: int
    indicators: tuple[IndicatorLine, ...]


@dataclass(frozen=True)
class FigureLine:
    part: FigurePart
    resource: Resource
    amount: Fraction | None


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    who: str | None
    resource: str
    part: FigurePart
    old: Decimal | None
    new: Decimal | None
    source: str


@dataclass(frozen=True)
class SchoolView:
    school: SchoolInfo
    year: int | None
    standard: StandardSet
    figures: tuple[FigureLine, ...]
    parts: tuple[PartView, ...]
    history: tuple[HistoryLine, ...]
    editable: bool
    resources: dict[str, Resource]


def _share_of(dispersion: Dispersion, school_id: str) -> tuple[Fraction | None, Fraction | None]:
    for share in dispersion.schools:
        if share.school_id == school_id:
            return share.value, share.share
    return None, None


def part_views(county: County, unit_id: int) -> list[PartView]:
    standard = county.standard
    own = county.records_of(unit_id)
    if not own:
        return []
    balance = county_balance(standard, list(county.records))
    views = []
    for record in own:
        level = balance.level(record.level)
        drivers = composite_drivers(level)
        rank = next((n for n, d in enumerate(drivers, start=1) if d.name == record.name), None)
        share = drivers[rank - 1].share if rank is not None else None
        minimums = {c.indicator.id: c for c in minimum_checks(standard, record)}
        lines = []
        for dispersion in level.dispersions:
            _, part_share = _share_of(dispersion, record.school_id)
            lines.append(IndicatorLine(dispersion.indicator,
                                       indicator_value(dispersion.indicator, record),
                                       dispersion.mean, part_share,
                                       minimums.get(dispersion.indicator.id)))
        views.append(PartView(record.level, record.students,
                              share if standard.kind is SetKind.BASIC else None, rank,
                              len(drivers), tuple(lines)))
    return views


def _figure_lines(county: County, school: SchoolInfo) -> list[FigureLine]:
    needed = {i.resource.id for i in county.standard.indicators} | {STUDENTS}
    lines = []
    for part in school.parts:
        values = county.figures.get((school.unit_id, part), {})
        for resource in county.resources.values():
            if resource.id not in needed and resource.id not in values:
                continue
            if school.level is SchoolLevel.NINE_YEAR:
                shared = resource.shared and resource.id != STUDENTS
                if shared != (part is FigurePart.WHOLE):
                    continue
            lines.append(FigureLine(part, resource, values.get(resource.id)))
    return lines


async def _history(session: AsyncSession, unit_id: int, limit: int) -> list[HistoryLine]:
    return [HistoryLine(c.at, who, c.resource, c.part, c.old_amount, c.new_amount, c.source)
            for c, who in await repo.changes_of(session=session, unit_id=unit_id, limit=limit)]


async def _choose(session: AsyncSession, county: County, access: Access, name: str | None
                  ) -> SchoolInfo:
    if name:
        school = next((s for s in county.schools if fold(s.name) == fold(name)), None)
        if school is None:
            raise NotFound("indicators.school_unknown", school=name)
    elif len(access.schools) == 1:
        school = county.school(access.schools[0])
        if school is None:
            raise NotFound("indicators.school_unknown", school=str(access.schools[0]))
    else:
        raise InvalidInput("indicators.school_which")
    if not access.can_view(school.unit_id):
        raise PermissionDenied("indicators.not_your_school", school=school.name)
    return school


async def view(session: AsyncSession, standards: Standards, actor: Actor, *,
               name: str | None = None, unit_id: int | None = None) -> SchoolView:
    access = await access_of(session, actor)
    county = await load_county(session, standards, await active_campaign_id(session))
    if unit_id is not None:
        found = county.school(unit_id)
        if found is None:
            raise NotFound("indicators.school_unknown", school=str(unit_id))
        name = found.name
    school = await _choose(session, county, access, name)
    return SchoolView(school, county.year, county.standard, tuple(_figure_lines(county, school)),
                      tuple(part_views(county, school.unit_id)),
                      tuple(await _history(session, school.unit_id, HISTORY)),
                      access.can_edit(school.unit_id), dict(county.resources))


async def choices(session: AsyncSession, standards: Standards, actor: Actor
                  ) -> list[SchoolInfo]:
    """The schools this person may open, when they did not name one."""
    access = await access_of(session, actor)
    county = await load_county(session, standards, await active_campaign_id(session))
    return [s for s in county.schools if access.can_view(s.unit_id)]


# Corrections -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Corrected:
    school: str
    part: FigurePart
    resource: Resource
    old: Decimal | None
    new: Decimal
    indicator: IndicatorDef | None
    value_before: Fraction | None
    value_after: Fraction | None


def _round_for(resource: Resource, amount: Fraction) -> Decimal:
    exact = Decimal(amount.numerator) / Decimal(amount.denominator)
    step = Decimal(1) if is_count(resource) else Decimal("0.01")
    return exact.quantize(step, rounding=ROUND_HALF_UP)


def _edit_for(county: County, request: Requested) -> tuple[SchoolInfo, FigureEdit, IndicatorDef | None]:
    school = county.school(request.unit_id)
    if school is None:
        raise NotFound("indicators.school_unknown", school=request.school)
    resource = request.resource
    part = school.part_for(resource, request.level)
    indicator = None
    amount = request.amount
    if request.indicator is not None:
        indicator = county.standard.indicator(request.indicator)
        level = request.level or (school.levels[0] if school.levels else None)
        record = next((r for r in county.records_of(school.unit_id) if r.level is level), None)
        if record is None or record.students == 0:
            raise InvalidInput("indicators.correct.no_students", school=school.name)
        amount = _round_for(resource, indicator.amount_for(Fraction(amount), record.students))
    if is_count(resource) and amount != amount.to_integral_value():
        raise InvalidInput("indicators.correct.not_whole", name=resource.name,
                           value=f"{amount:f}")
    return school, FigureEdit(school.unit_id, part, resource.id, amount), indicator


def _value(county: County, unit_id: int, level: Level | None, indicator: IndicatorDef
           ) -> Fraction | None:
    for record in county.records_of(unit_id):
        if level is None or record.level is level:
            return indicator_value(indicator, record)
    return None


async def correct(session: AsyncSession, standards: Standards, actor: Actor, text: str, *,
                  now: datetime, unit_id: int | None = None) -> list[Corrected]:
    """`/school 图书 12000`: set figures of a school this person may edit."""
    access = await access_of(session, actor)
    campaign_id = await active_campaign_id(session)
    county = await load_county(session, standards, campaign_id)
    if county.year is None:
        raise InvalidInput("indicators.no_data")
    names = [SchoolName(s.unit_id, s.name, s.levels) for s in county.schools if s.levels]
    default = None
    own = [n for n in names if n.unit_id in access.schools]
    if unit_id is not None:
        default = next((n for n in names if n.unit_id == unit_id), None)
    elif len(own) == 1:
        default = own[0]
    requests = parse_corrections(text, Vocabulary(county.standard, county.resources), names,
                                 default)
    planned = []
    for request in requests:
        if not access.can_edit(request.unit_id):
            raise PermissionDenied("indicators.not_your_school", school=request.school)
        planned.append(_edit_for(county, request))
    return await _apply(session, standards, county, planned, campaign_id, actor, now)


async def _apply(session: AsyncSession, standards: Standards, county: County,
                 planned: Sequence[tuple[SchoolInfo, FigureEdit, IndicatorDef | None]],
                 campaign_id: int, actor: Actor, now: datetime) -> list[Corrected]:
    assert county.year is not None
    changes = await save_figures(session, county.year, [edit for _, edit, _ in planned],
                                 actor_id=actor.person_id, now=now, source="chat")
    after = await load_county(session, standards, campaign_id, county.year)
    by_key = {(c.unit_id, c.part, c.resource): c for c in changes}
    result = []
    for school, edit, indicator in planned:
        change: SchoolFigureChange | None = by_key.get((edit.unit_id, edit.part, edit.resource))
        resource = county.resources[edit.resource]
        shown = indicator or next((i for i in county.standard.indicators
                                   if i.resource.id == edit.resource), None)
        level = None if edit.part is FigurePart.WHOLE else Level(edit.part.value)
        old = change.old_amount if change is not None else edit.amount
        assert edit.amount is not None
        result.append(Corrected(
            school.name, edit.part, resource, old, edit.amount, shown,
            _value(county, school.unit_id, level, shown) if shown else None,
            _value(after, school.unit_id, level, shown) if shown else None))
    return result


# Field-by-field editing with a prompt ----------------------------------------------------
PARTS = (FigurePart.PRIMARY, FigurePart.JUNIOR, FigurePart.WHOLE)


@dataclass(frozen=True)
class Field:
    part: FigurePart
    resource: Resource
    amount: Fraction | None


async def fields(session: AsyncSession, standards: Standards, actor: Actor, unit_id: int
                 ) -> tuple[SchoolInfo, list[Field], list[str]]:
    """The figures of a school its editor may pick, and the resource order for buttons."""
    access = await access_of(session, actor)
    if not access.can_edit(unit_id):
        raise PermissionDenied("indicators.not_your_school", school=str(unit_id))
    county = await load_county(session, standards, await active_campaign_id(session))
    school = county.school(unit_id)
    if school is None or not school.levels:
        raise NotFound("indicators.school_unknown", school=str(unit_id))
    lines = _figure_lines(county, school)
    return school, [Field(line.part, line.resource, line.amount) for line in lines], \
        list(county.resources)


async def ask(session: AsyncSession, standards: Standards, actor: Actor, unit_id: int,
              part_index: int, field_index: int) -> tuple[SchoolInfo, Field, int]:
    """The field a button picked (by its place in `fields`' order), checked before the
    prompt is sent, and the year the answer will go to."""
    school, found, order = await fields(session, standards, actor, unit_id)
    if not 0 <= part_index < len(PARTS) or field_index >= len(order):
        raise NotFound("indicators.school_field_gone")
    part, resource_id = PARTS[part_index], order[field_index]
    field = next((f for f in found if f.part is part and f.resource.id == resource_id), None)
    if field is None:
        raise NotFound("indicators.school_field_gone")
    years = await repo.figure_years(session=session)
    if not years:
        raise InvalidInput("indicators.no_data")
    return school, field, years[-1]


async def remember_prompt(session: AsyncSession, actor: Actor, *, unit_id: int, year: int,
                          part: FigurePart, resource_id: str, chat_id: int, message_id: int,
                          now: datetime) -> None:
    await repo.add_prompt(session=session, prompt=SchoolEditPrompt(
        person_id=actor.person_id, unit_id=unit_id, year=year, part=part, resource=resource_id,
        chat_id=chat_id, message_id=message_id, created_at=now))


async def answer_prompt(session: AsyncSession, standards: Standards, actor: Actor, *,
                        chat_id: int, message_id: int, text: str, now: datetime
                        ) -> list[Corrected] | None:
    """The reply to a prompt: the new value of the field it asked for (None: not ours)."""
    prompt = await repo.prompt_for(session=session, person_id=actor.person_id, chat_id=chat_id,
                                   message_id=message_id)
    if prompt is None:
        return None
    access = await access_of(session, actor)
    if not access.can_edit(prompt.unit_id):
        raise PermissionDenied("indicators.not_your_school", school=str(prompt.unit_id))
    campaign_id = await active_campaign_id(session)
    county = await load_county(session, standards, campaign_id, prompt.year)
    school = county.school(prompt.unit_id)
    resource = county.resources.get(prompt.resource)
    if school is None or resource is None:
        raise NotFound("indicators.school_field_gone")
    amount = _answer_amount(text, resource)
    edit = FigureEdit(school.unit_id, prompt.part, resource.id, amount)
    await repo.delete_prompt(session=session, prompt_id=prompt.id)
    return await _apply(session, standards, county, [(school, edit, None)], campaign_id, actor,
                        now)


def _answer_amount(text: str, resource: Resource) -> Decimal:
    cleaned = fold(text).replace(",", "")
    factor = Decimal(1)
    for word in sorted(UNIT_WORDS, key=len, reverse=True):
        canonical, worth = UNIT_WORDS[word]
        if canonical == resource.unit and cleaned.endswith(fold(word)):
            cleaned, factor = cleaned[: -len(fold(word))], worth
            break
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", cleaned) is None:  # ASCII digits, folded
        raise InvalidInput("indicators.correct.not_number", value=shown(text))
    amount = Decimal(cleaned) * factor
    if amount < 0:
        raise InvalidInput("indicators.correct.not_number", value=shown(text))
    if is_count(resource) and amount != amount.to_integral_value():
        raise InvalidInput("indicators.correct.not_whole", name=resource.name,
                           value=f"{amount:f}")
    return amount
