"""Read-only queries behind summaries, charts and bulletins: counts per unit, indicator,
phase or owner, pages of tasks, and the names they refer to. The ledger's rows are in
`db.repositories.reports.ledger`, the campaign over time in `db.repositories.reports.timeline`.

Everything that counts is done by the database (GROUP BY with conditional sums), so a
summary of 200,000 tasks transfers a few thousand small rows, never the tasks themselves.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import (
    Indicator,
    Person,
    Phase,
    QuizCard,
    Task,
    TaskStatus,
    Unit,
)
from db.models.core import OPEN_STATUSES
from db.repositories.reports import county, kept

CLOSED_STATUSES = (TaskStatus.DONE, TaskStatus.CANCELLED)
GroupBy = Literal["unit", "indicator", "phase", "owner"]


@dataclass(frozen=True)
class TaskScope:
    """The tasks a reader may count: all of them, or those of some units and/or one owner."""

    everything: bool = False
    unit_ids: frozenset[int] = frozenset()
    owner_id: int | None = None

    def condition(self) -> ColumnElement[bool]:
        if self.everything:
            return true()
        parts: list[ColumnElement[bool]] = []
        if self.unit_ids:
            parts.append(Task.unit_id.in_(sorted(self.unit_ids)))
        if self.owner_id is not None:
            parts.append(Task.owner_id == self.owner_id)
        return or_(*parts) if parts else false()

    def within(self, campaign_id: int) -> list[ColumnElement[bool]]:
        """The scope's tasks of one campaign, written so that a reader's own units and
        tasks drive the query whatever the database knows about its tables.

        Without statistics (SQLite never gathers them on its own) the planner prefers a
        covering index that starts with the campaign, and walks every task of the county
        to find a township's or one person's; so for a scoped reader the campaign is only
        a filter (`+ 0` keeps it off the index) and the unit and owner indexes lead.
        """
        if self.everything:
            return [Task.campaign_id == campaign_id]
        return [(Task.campaign_id + 0) == campaign_id, self.condition()]

    @property
    def shape(self) -> tuple[bool, bool, bool]:
        """What a statement for this scope looks like, whatever the ids: a statement built
        for one shape serves every scope of that shape with `params()`."""
        return self.everything, bool(self.unit_ids), self.owner_id is not None

    def params(self, campaign_id: int) -> dict[str, Any]:
        values: dict[str, Any] = {"campaign_id": campaign_id}
        if not self.everything:
            if self.unit_ids:
                values["unit_ids"] = sorted(self.unit_ids)
            if self.owner_id is not None:
                values["owner_id"] = self.owner_id
        return values


def _within_bound(shape: tuple[bool, bool, bool]) -> list[ColumnElement[bool]]:
    """`TaskScope.within` with parameters in place of the ids (see `TaskScope.shape`)."""
    everything, has_units, has_owner = shape
    campaign: Any = bindparam("campaign_id")
    if everything:
        return [Task.campaign_id == campaign]
    parts: list[ColumnElement[bool]] = []
    if has_units:
        parts.append(Task.unit_id.in_(bindparam("unit_ids", expanding=True)))
    if has_owner:
        parts.append(Task.owner_id == bindparam("owner_id"))
    return [(Task.campaign_id + 0) == campaign, or_(*parts) if parts else false()]


EVERYTHING = TaskScope(everything=True)


class Tally(NamedTuple):
    """Counts for one group of tasks (one unit, indicator, phase or owner; None = unset).
    A tuple: a county's summary reads one per unit, 2,000 of them."""

    key: int | None
    total: int
    done: int
    cancelled: int
    blocked: int
    overdue: int
    undated: int
    progress_sum: int  # over tasks that are not cancelled, a done task counting 100


@dataclass(frozen=True)
class TaskLine:
    """One task as a list shows it: plain values, no ORM object behind it."""

    id: int
    title: str
    unit_id: int
    unit_name: str
    owner_name: str | None
    due_at: datetime | None
    status: TaskStatus
    progress: int
    indicator_code: str | None
    indicator_veto: bool


class UnitRef(NamedTuple):
    """A unit's id, name and parent: a tuple, because a county summary reads 2,000."""

    id: int
    name: str
    parent_id: int | None


class IndicatorRef(NamedTuple):
    id: int
    code: str
    name: str
    veto: bool


_GROUP_COLUMNS = {
    "unit": Task.unit_id,
    "indicator": Task.indicator_id,
    "phase": Task.phase_id,
    "owner": Task.owner_id,
}


async def tallies(
    *,
    session: AsyncSession,
    campaign_id: int,
    scope: TaskScope,
    now: datetime,
    by: Sequence[GroupBy],
) -> dict[GroupBy, list[Tally]]:
    """Counts per unit, indicator, phase or owner; several groupings from one scan.

    The inner query groups by the grouping columns and the status, in the order of a
    covering index, so it streams without sorting and evaluates nothing costly per task;
    the outer one folds those few thousand per-status rows into one row per group.
    """
    if scope.everything and len(by) == 1 and by[0] != "owner":
        # The whole campaign per unit, indicator or phase: the kept tallies have it.
        counted = await summary_tallies(session=session, campaign_id=campaign_id, scope=scope,
                                        now=now)
        kept_groups = {"unit": counted.by_unit, "indicator": counted.by_indicator,
                       "phase": counted.by_phase}
        return {by[0]: kept_groups[by[0]]}
    columns = [_GROUP_COLUMNS[b].label(b) for b in by]
    late = case((and_(Task.due_at.is_not(None), Task.due_at < now), 1), else_=0)
    undated = case((Task.due_at.is_(None), 1), else_=0)
    per_status = (
        select(
            *columns, Task.status.label("status"), func.count().label("n"),
            func.sum(Task.progress).label("progress"), func.sum(late).label("late"),
            func.sum(undated).label("undated"),
        )
        .where(*scope.within(campaign_id))
        .group_by(*(_GROUP_COLUMNS[b] for b in by), Task.status)
        .subquery()
    )
    c = per_status.c
    is_open = c.status.in_(OPEN_STATUSES)

    def total_if(condition: ColumnElement[bool], value: Any) -> Any:
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    keys = [c[b] for b in by]
    stmt = select(
        *keys,
        func.sum(c.n),
        total_if(c.status == TaskStatus.DONE, c.n),
        total_if(c.status == TaskStatus.CANCELLED, c.n),
        total_if(c.status == TaskStatus.BLOCKED, c.n),
        total_if(is_open, c.late),
        total_if(is_open, c.undated),
        total_if(c.status == TaskStatus.DONE, 100 * c.n) + total_if(is_open, c.progress),
    ).group_by(*keys)
    rows: Sequence[Any] = (await session.execute(stmt)).all()
    if len(by) == 1:
        return {by[0]: [Tally(r[0], *(int(v) for v in r[1:])) for r in rows]}
    sums: dict[GroupBy, dict[int | None, list[int]]] = {b: {} for b in by}
    for row in rows:
        values = [int(v) for v in row[len(by):]]
        for i, b in enumerate(by):
            acc = sums[b].setdefault(row[i], [0] * len(values))
            for j, value in enumerate(values):
                acc[j] += value
    return {b: [Tally(key, *acc) for key, acc in sums[b].items()] for b in by}


@dataclass(frozen=True)
class SummaryTallies:
    """What a summary counts: per unit, per indicator and per phase, within one scope."""

    by_unit: list[Tally]
    by_indicator: list[Tally]
    by_phase: list[Tally]


def _tally_values(row: Sequence[Any]) -> list[int]:
    return [int(v) for v in row]


@lru_cache(maxsize=8)
def _summary_statement(shape: tuple[bool, bool, bool]) -> Any:
    """The statement of `summary_tallies` for one scope shape, built once: constructing
    the union and its conditional sums costs more Python than running it at 10,000 tasks."""
    now = bindparam("now", type_=Task.__table__.c.due_at.type)
    late = case((and_(Task.due_at.is_not(None), Task.due_at < now), 1), else_=0)
    undated = case((Task.due_at.is_(None), 1), else_=0)
    measures = (
        Task.status.label("status"), func.count().label("n"),
        func.sum(Task.progress).label("progress"), func.sum(late).label("late"),
        func.sum(undated).label("undated"),
    )
    where = _within_bound(shape)
    by_unit = (
        select(literal(0).label("part"), Task.unit_id.label("k1"),
               null().cast(Integer).label("k2"), *measures)
        .where(*where).group_by(Task.unit_id, Task.status)
    )
    by_indicator_phase = (
        select(literal(1).label("part"), Task.indicator_id.label("k1"),
               Task.phase_id.label("k2"), *measures)
        .where(*where).group_by(Task.indicator_id, Task.phase_id, Task.status)
    )
    per_status = union_all(by_unit, by_indicator_phase).subquery()
    c = per_status.c
    is_open = c.status.in_(OPEN_STATUSES)

    def total_if(condition: ColumnElement[bool], value: Any) -> Any:
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    return select(
        c.part, c.k1, c.k2,
        func.sum(c.n),
        total_if(c.status == TaskStatus.DONE, c.n),
        total_if(c.status == TaskStatus.CANCELLED, c.n),
        total_if(c.status == TaskStatus.BLOCKED, c.n),
        total_if(is_open, c.late),
        total_if(is_open, c.undated),
        total_if(c.status == TaskStatus.DONE, 100 * c.n) + total_if(is_open, c.progress),
    ).group_by(c.part, c.k1, c.k2)


async def counted_summary_rows(
    *, session: AsyncSession, campaign_id: int, now: datetime
) -> list[Any]:
    """The whole campaign's rows of `summary_tallies` counted from the tasks themselves,
    not from the kept tallies: what `inspectbot db tallies` checks them against."""
    params = EVERYTHING.params(campaign_id) | {"now": now}
    return list((await session.execute(_summary_statement(EVERYTHING.shape), params)).all())


async def summary_tallies(
    *, session: AsyncSession, campaign_id: int, scope: TaskScope, now: datetime
) -> SummaryTallies:
    """The three groupings of a summary in one statement.

    The whole county's counts come from the tallies the database keeps
    (`db.repositories.reports.kept`): a few thousand rows whatever the number of
    tasks. A scoped reader's tasks are counted where they are, found through the unit and
    owner indexes (`TaskScope.within`), so their summary costs the same whatever the
    number of units outside their scope; the outer query folds the per-status rows into
    one row per group. The indicator × phase rows (a few hundred) are split here.
    """
    if scope.everything:
        rows = await kept.summary_rows(session=session, campaign_id=campaign_id, now=now)
    else:
        params = scope.params(campaign_id) | {"now": now}
        rows = list((await session.execute(_summary_statement(scope.shape), params)).all())
    units: list[Tally] = []
    indicators: dict[int | None, list[int]] = {}
    phases: dict[int | None, list[int]] = {}
    for row in rows:
        if row[0] == 0:
            units.append(Tally(row[1], int(row[3]), int(row[4]), int(row[5]), int(row[6]),
                               int(row[7]), int(row[8]), int(row[9])))
            continue
        values = _tally_values(row[3:])
        for sums, key in ((indicators, row[1]), (phases, row[2])):
            acc = sums.setdefault(key, [0] * len(values))
            for j, value in enumerate(values):
                acc[j] += value
    return SummaryTallies(
        by_unit=units,
        by_indicator=[Tally(key, *acc) for key, acc in indicators.items()],
        by_phase=[Tally(key, *acc) for key, acc in phases.items()],
    )


class RankedUnit(NamedTuple):
    """A unit at its place from the least complete (1) among the units with something to do."""

    place: int
    name: str
    tally: Tally


@dataclass(frozen=True)
class CountyTallies:
    """The whole campaign's summary counts with its units ranked by the database."""

    overall: Tally  # every unit's tasks (and those without one), key None
    by_indicator: list[Tally]
    by_phase: list[Tally]
    units: list[RankedUnit]  # places 1 to `shown` + 1 and the last, least complete first
    ranked: int  # how many units have something to do


async def county_tallies(
    *, session: AsyncSession, campaign_id: int, now: datetime, shown: int
) -> CountyTallies:
    """`summary_tallies` for the whole campaign, but only the units a summary names: the
    `shown` least complete, the next one and the most complete (`county.ranked_statement`)."""
    rows = await county.ranked_rows(session=session, campaign_id=campaign_id, now=now,
                                    shown=shown)
    overall = Tally(None, *([0] * 7))
    by_indicator: list[Tally] = []
    by_phase: list[Tally] = []
    units, ranked = [], 0
    for kind, k1, _, name, place, count, *measures in rows:
        if kind == county.SUMS:
            if measures[0] is not None:  # no unit row: nothing to sum
                overall = Tally(None, *_tally_values(measures))
            continue
        tally = Tally(k1, *_tally_values(measures))
        if kind == county.INDICATORS:
            by_indicator.append(tally)
        elif kind == county.PHASES:
            by_phase.append(tally)
        else:
            units.append(RankedUnit(place, name, tally))
            ranked = count
    units.sort(key=lambda u: u.place)
    return CountyTallies(overall, by_indicator, by_phase, units, ranked)


def _line(row: Any) -> TaskLine:
    return TaskLine(
        id=row[0], title=row[1], unit_id=row[2], unit_name=row[3], owner_name=row[4],
        due_at=row[5], status=row[6], progress=row[7], indicator_code=row[8],
        indicator_veto=bool(row[9]),
    )


class _LineFilter(NamedTuple):
    """Which of `task_lines`' filters a statement holds (their values are parameters)."""

    scope: tuple[bool, bool, bool]
    unit: bool
    indicator: bool
    overdue: bool
    veto_risk: bool


@cache  # at most 5 scope shapes × 16 filter combinations
def _line_statements(shape: _LineFilter) -> tuple[Any, Any]:
    """The page and count statements of `task_lines` for one combination of filters,
    built once: building them took more Python than running them (a county summary asks
    for its veto risks on every call)."""
    now: Any = bindparam("now", type_=Task.__table__.c.due_at.type)
    conditions = _within_bound(shape.scope)
    if shape.unit:
        conditions.append(Task.unit_id == bindparam("unit_id"))
    if shape.indicator:
        conditions.append(Task.indicator_id == bindparam("indicator_id"))
    overdue = and_(Task.status.in_(OPEN_STATUSES), Task.due_at.is_not(None), Task.due_at < now)
    if shape.overdue:
        conditions.append(overdue)
    if shape.veto_risk:
        vetoed = select(Indicator.id).where(Indicator.veto.is_(True)).scalar_subquery()
        # The whole county's veto tasks are found through their indicators; a scoped
        # reader's through their units (`+ 0` keeps the indicator index out of the plan).
        everything = shape.scope[0]
        indicator = Task.indicator_id if everything else Task.indicator_id + 0
        conditions.append(indicator.in_(vetoed))
        conditions.append(or_(overdue, Task.status == TaskStatus.BLOCKED))
    page = (
        select(Task.id)
        .where(*conditions)
        .order_by(
            case((Task.status.in_(CLOSED_STATUSES), 1), else_=0),
            Task.due_at.is_(None),
            Task.due_at,
            Task.id,
        )
        .offset(bindparam("offset", type_=Integer()))
        .limit(bindparam("limit", type_=Integer()))
    )
    count = select(func.count()).select_from(Task).where(*conditions)
    return page, count


def _lines_statement() -> Any:
    owner = aliased(Person)
    return (
        select(
            Task.id, Task.title, Task.unit_id, Unit.name, owner.name, Task.due_at,
            Task.status, Task.progress, Indicator.code, Indicator.veto,
        )
        .join(Unit, Unit.id == Task.unit_id)
        .outerjoin(owner, owner.id == Task.owner_id)
        .outerjoin(Indicator, Indicator.id == Task.indicator_id)
        .where(Task.id.in_(bindparam("ids", expanding=True)))
    )


_LINES = _lines_statement()


async def task_lines(
    *,
    session: AsyncSession,
    campaign_id: int,
    scope: TaskScope,
    now: datetime,
    unit_id: int | None = None,
    indicator_id: int | None = None,
    overdue_only: bool = False,
    veto_risk_only: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[TaskLine], int]:
    """A page of tasks (open before closed, then by deadline) and how many match in all.

    The filters touch only task columns (veto indicators through a subquery), so both the
    page and the count are answered from an index; names are joined for the page alone.
    """
    page, count = _line_statements(_LineFilter(
        scope.shape, unit_id is not None, indicator_id is not None, overdue_only,
        veto_risk_only,
    ))
    params = scope.params(campaign_id) | {"now": now}
    if unit_id is not None:
        params["unit_id"] = unit_id
    if indicator_id is not None:
        params["indicator_id"] = indicator_id
    ids = list((await session.execute(page, params | {"offset": offset, "limit": limit}))
               .scalars().all())
    total = int((await session.execute(count, params)).scalar_one())
    if not ids:
        return [], total
    by_id = {row[0]: _line(row) for row in (await session.execute(_LINES, {"ids": ids})).all()}
    return [by_id[i] for i in ids if i in by_id], total


_UNITS = select(Unit.id, Unit.name, Unit.parent_id)
_UNITS_BY_ID = _UNITS.where(Unit.id.in_(bindparam("ids", expanding=True)))
_INDICATORS = select(Indicator.id, Indicator.code, Indicator.name, Indicator.veto)
_INDICATORS_BY_ID = _INDICATORS.where(Indicator.id.in_(bindparam("ids", expanding=True)))


async def _named(
    session: AsyncSession, every: Any, by_id: Any, ids: Collection[int] | None
) -> Sequence[Any]:
    """The rows of `every`, or of `by_id` for those ids (none for an empty collection)."""
    if ids is None:
        return (await session.execute(every)).all()
    if not ids:
        return []
    return (await session.execute(by_id, {"ids": sorted(ids)})).all()


async def units(
    *, session: AsyncSession, ids: Collection[int] | None = None
) -> dict[int, UnitRef]:
    """Units by id: those in `ids` (the ones a reader's counts name), or all of them."""
    make = UnitRef._make
    return {row[0]: make(row) for row in await _named(session, _UNITS, _UNITS_BY_ID, ids)}


async def indicators(
    *, session: AsyncSession, ids: Collection[int] | None = None
) -> dict[int, IndicatorRef]:
    """Indicators by id: those in `ids`, or all of them."""
    rows = await _named(session, _INDICATORS, _INDICATORS_BY_ID, ids)
    return {r[0]: IndicatorRef(r[0], r[1], r[2], bool(r[3])) for r in rows}


async def quiz_started(*, session: AsyncSession) -> bool:
    """Whether anyone has answered a quiz question yet (one index probe on an empty bank)."""
    stmt = select(QuizCard.id).limit(1)
    return (await session.execute(stmt)).first() is not None


_PHASES = (select(Phase).where(Phase.campaign_id == bindparam("campaign_id"))
           .order_by(Phase.position, Phase.id))


async def phases(*, session: AsyncSession, campaign_id: int) -> Sequence[Phase]:
    """A campaign's phases in order (the statement built once: every summary reads them)."""
    return (await session.execute(_PHASES, {"campaign_id": campaign_id})).scalars().all()


