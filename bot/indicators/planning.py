"""What-if and the improvement plan for the county, and the plan turned into tasks.

`/whatif` parses the changes (`bot.indicators.parsing`) and asks the core's `what_if`.
A change to what a nine-year school's parts share is split between the parts the way
their figures are (weight × students), unless the part is named.

`/plan` asks the core's planner, keeps the answer as an `ImprovementPlan` row and shows
it; one press (then a confirmation) makes a task per school: the school's unit, its
principal as owner, linked to the campaign indicator that answers the coefficient, due a
sensible time before the inspection. Claiming the row first makes a second press harmless.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.access import Actor, require_admin
from bot.core.errors import InvalidInput, NotFound
from bot.indicators.certify import active_campaign_id, link_for, require_leader
from bot.indicators.data import County, Standards, load_county
from bot.indicators.names import STUDENTS, Vocabulary
from bot.indicators.parsing import Requested, SchoolName, parse_changes
from bot.indicators.planner import Plan, PlanOptions, TargetKind, plan_improvements
from bot.indicators.records import SchoolRecord
from bot.indicators.standards import SetKind, StandardSet
from bot.indicators.whatif import Change, WhatIf, what_if
from bot.tasks.service import record_event
from db.models import ImprovementPlan, Task
from db.repositories import campaigns as campaigns_repo
from db.repositories import indicators as repo
from db.repositories import tasks as tasks_repo

# Tasks are due this long before the inspection, leaving time for a mock inspection...
LEAD_TIME = timedelta(days=21)
# ...but never sooner than this from today, and without an inspection date this far ahead.
MIN_NOTICE = timedelta(days=7)
NO_DATE_DEADLINE = timedelta(days=30)


def _require_data(county: County) -> None:
    if not county.records:
        raise InvalidInput("indicators.no_data")


def school_names(county: County) -> list[SchoolName]:
    return [SchoolName(s.unit_id, s.name, s.levels) for s in county.schools
            if s.levels and county.records_of(s.unit_id)]


def _mass(standard: StandardSet, record: SchoolRecord) -> Fraction:
    return standard.nine_year_split.get(record.level, Fraction(1)) * record.students


def to_changes(county: County, requested: Sequence[Requested]) -> list[Change]:
    """The core's changes: nine-year shares split, per-student values made amounts."""
    changes: list[Change] = []
    for item in requested:
        records = county.records_of(item.unit_id)
        if item.level is not None:
            records = [r for r in records if r.level is item.level]
        if not records:
            raise InvalidInput("indicators.whatif.no_records", school=item.school)
        amount = Fraction(item.amount)
        if item.indicator is not None:
            indicator = county.standard.indicator(item.indicator)
            for record in records:
                changes.append(Change(record.school_id, item.resource.id,
                                      indicator.amount_for(amount, record.students), record.level))
            continue
        resource = STUDENTS if item.resource.id == STUDENTS else item.resource.id
        if len(records) == 1:
            changes.append(Change(records[0].school_id, resource, amount, records[0].level))
            continue
        total = sum((_mass(county.standard, r) for r in records), Fraction(0))
        for record in records:
            part = amount * _mass(county.standard, record) / total if total else amount / 2
            changes.append(Change(record.school_id, resource, part, record.level))
    return changes


@dataclass(frozen=True)
class WhatIfView:
    county: County
    requested: tuple[Requested, ...]
    result: WhatIf


async def run_what_if(session: AsyncSession, standards: Standards, actor: Actor, text: str
                      ) -> WhatIfView:
    require_leader(actor)
    county = await load_county(session, standards, await active_campaign_id(session))
    _require_data(county)
    requested = parse_changes(text, Vocabulary(county.standard, county.resources),
                              school_names(county))
    result = what_if(county.standard, list(county.records), to_changes(county, requested))
    return WhatIfView(county, tuple(requested), result)


# The plan --------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanView:
    plan_id: int | None  # None: nothing to turn into tasks
    county: County
    plan: Plan


def _stored(plan: Plan) -> list[dict[str, Any]]:
    rows = []
    for item in plan.improvements:
        unit_id = int(item.school_id)
        rows.append({
            "unit_id": unit_id, "school": item.name, "level": item.level.value,
            "indicator": item.indicator.id, "indicator_name": item.indicator.name,
            "resource": item.resource.id, "resource_name": item.resource.name,
            "unit": item.resource.unit, "quantity": str(Decimal(item.quantity.numerator)
                                                        / Decimal(item.quantity.denominator)),
            "target": item.target.value,
            "before": str(float(item.value_before)), "after": str(float(item.value_after)),
            "indicator_unit": item.indicator.unit,
        })
    return rows


async def make_plan(session: AsyncSession, standards: Standards, actor: Actor, now: datetime
                    ) -> PlanView:
    require_leader(actor)
    campaign_id = await active_campaign_id(session)
    county = await load_county(session, standards, campaign_id)
    _require_data(county)
    # The search is CPU-bound (up to a second or two on a large county): off the loop.
    plan = await asyncio.to_thread(plan_improvements, county.standard, list(county.records),
                                   PlanOptions())
    plan_id = None
    if plan.improvements and county.year is not None:
        row = await repo.add_plan(session=session, plan=ImprovementPlan(
            campaign_id=campaign_id, person_id=actor.person_id, year=county.year,
            improvements=_stored(plan), created_at=now))
        plan_id = row.id
    return PlanView(plan_id, county, plan)


# Tasks from the plan ---------------------------------------------------------------------
@dataclass(frozen=True)
class PlannedTask:
    unit_id: int
    school: str
    owner_id: int | None
    owner: str | None
    indicator_id: int | None
    indicator_code: str | None
    items: tuple[Mapping[str, Any], ...]
    key: str
    exists: bool


@dataclass(frozen=True)
class TasksPreview:
    plan_id: int
    year: int
    due_at: datetime
    tasks: tuple[PlannedTask, ...]

    @property
    def without_owner(self) -> tuple[str, ...]:
        return tuple(t.school for t in self.tasks if t.owner_id is None)


def default_due(now: datetime, inspection: date | None, zone: ZoneInfo, at: time) -> datetime:
    """Three weeks before the inspection, but at least a week from today (and before the
    inspection when it is near); a month from today without an inspection date."""
    today = now.astimezone(zone).date()
    if inspection is None or inspection <= today:
        day = today + NO_DATE_DEADLINE
    else:
        day = inspection - LEAD_TIME
        earliest = today + MIN_NOTICE
        if day < earliest:
            day = min(earliest, inspection - timedelta(days=1))
    return datetime.combine(day, at, tzinfo=zone)


def _check_key(standard: StandardSet, level: str, indicator: str, target: str) -> list[str]:
    if standard.kind is SetKind.BASIC:
        return [f"coefficient:{level}:composite"]
    keys = [f"coefficient:{level}:{indicator}"]
    if target in (TargetKind.MINIMUM.value, TargetKind.FLOOR.value):
        keys.insert(0, f"schools:{level}")
    return keys


def task_key(year: int, unit_id: int) -> str:
    return f"indicators:plan:{year}:{unit_id}"


async def preview_tasks(session: AsyncSession, standards: Standards, actor: Actor, plan_id: int,
                        *, now: datetime, zone: ZoneInfo, due_time: time) -> TasksPreview:
    require_admin(actor)
    stored = await repo.get_plan(session=session, plan_id=plan_id)
    if stored is None:
        raise NotFound("indicators.plan.gone")
    if stored.applied_at is not None:
        raise InvalidInput("indicators.plan.already")
    campaign = await campaigns_repo.get_campaign(session=session, campaign_id=stored.campaign_id)
    if campaign is None:
        raise NotFound("indicators.plan.gone")
    county = await load_county(session, standards, stored.campaign_id, stored.year)
    links = await repo.links_of(session=session, campaign_id=stored.campaign_id)
    by_school: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for item in stored.improvements:
        by_school[int(item["unit_id"])].append(item)
    existing = await tasks_repo.tasks_by_key(session=session, campaign_id=stored.campaign_id)
    tasks = []
    for unit_id, items in by_school.items():
        school = county.school(unit_id)
        first = items[0]
        keys = _check_key(county.standard, first["level"], first["indicator"], first["target"])
        indicator = next((found for k in keys if (found := link_for(k, links)) is not None), None)
        key = task_key(stored.year, unit_id)
        tasks.append(PlannedTask(
            unit_id, school.name if school else str(first["school"]),
            school.leader_id if school else None, school.leader_name if school else None,
            indicator.id if indicator else None, indicator.code if indicator else None,
            tuple(items), key, key in existing))
    due = default_due(now, campaign.inspection_date, zone, due_time)
    return TasksPreview(plan_id, stored.year, due, tuple(tasks))


@dataclass(frozen=True)
class MadeTasks:
    created: tuple[Task, ...]
    updated: tuple[Task, ...]


async def make_tasks(session: AsyncSession, standards: Standards, actor: Actor, plan_id: int,
                     *, now: datetime, zone: ZoneInfo, due_time: time,
                     title: Callable[[PlannedTask], str],
                     description: Callable[[PlannedTask, int], str]) -> MadeTasks:
    """Create (or refresh) one task per school of the plan; `title`/`description` render
    a planned task's texts in the campaign's language."""
    preview = await preview_tasks(session, standards, actor, plan_id, now=now, zone=zone,
                                  due_time=due_time)
    if not await repo.claim_plan(session=session, plan_id=plan_id, now=now):
        raise InvalidInput("indicators.plan.already")
    stored = await repo.get_plan(session=session, plan_id=plan_id)
    assert stored is not None
    existing = await tasks_repo.tasks_by_key(session=session, campaign_id=stored.campaign_id)
    created: list[Task] = []
    updated: list[Task] = []
    for planned in preview.tasks:
        task = existing.get(planned.key)
        text_title, text_description = title(planned), description(planned, preview.year)
        if task is None:
            task = await tasks_repo.add_task(session=session, task=Task(
                campaign_id=stored.campaign_id, key=planned.key, title=text_title[:500],
                description=text_description, unit_id=planned.unit_id,
                owner_id=planned.owner_id, indicator_id=planned.indicator_id,
                due_at=preview.due_at, evidence_required=1, priority=1,
                created_at=now, updated_at=now))
            await record_event(session, task, actor_id=actor.person_id, at=now, kind="created",
                               new=text_title[:500])
            created.append(task)
        else:
            old = task.description
            task.title = text_title[:500]
            task.description = text_description
            if planned.indicator_id is not None:
                task.indicator_id = planned.indicator_id
            await record_event(session, task, actor_id=actor.person_id, at=now,
                               kind="replanned", old=old[:500], new=text_description[:500])
            updated.append(task)
    return MadeTasks(tuple(created), tuple(updated))
