"""One school's figures as its principal sees them: who may see and correct which school,
the school against the set's minimums, and the view `/school` shows.

A principal is the leader of a school unit: they see and correct their own school. The
office sees and corrects every school; the leading group sees every school; anyone else
sees none. Corrections are `bot.indicators.corrections`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.access import Actor
from bot.core.errors import InvalidInput, NotFound, PermissionDenied
from bot.indicators.balance import Dispersion, MinimumCheck, county_balance, indicator_value
from bot.indicators.certify import active_campaign_id, composite_drivers
from bot.indicators.data import County, SchoolInfo, Standards, load_county
from bot.indicators.names import STUDENTS, fold
from bot.indicators.numbers import ceil_to_step
from bot.indicators.records import Level, Resource, SchoolRecord
from bot.indicators.standards import IndicatorDef, SetKind, StandardSet
from db.models import FigurePart, SchoolLevel
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


def figure_lines(county: County, school: SchoolInfo) -> list[FigureLine]:
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
    return SchoolView(school, county.year, county.standard, tuple(figure_lines(county, school)),
                      tuple(part_views(county, school.unit_id)),
                      tuple(await _history(session, school.unit_id, HISTORY)),
                      access.can_edit(school.unit_id), dict(county.resources))


async def choices(session: AsyncSession, standards: Standards, actor: Actor
                  ) -> list[SchoolInfo]:
    """The schools this person may open, when they did not name one."""
    access = await access_of(session, actor)
    county = await load_county(session, standards, await active_campaign_id(session))
    return [s for s in county.schools if access.can_view(s.unit_id)]
