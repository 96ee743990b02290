"""What the reports handlers ask for, read in one unit of work each and scoped by role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.access import Actor
from bot.core.errors import InvalidInput, NotFound
from bot.core.paging import Page
from bot.indicators.certify import CertificationSource
from bot.quiz.readiness import ReadinessCache
from bot.reports import bulletin as bulletin_service
from bot.reports.summary import (
    Standing,
    Summary,
    build_summary,
    counts_of,
    rank_units,
    scope_for,
)
from db.models import Campaign
from db.repositories import campaigns as campaigns_repo
from db.repositories import reports as reports_repo
from db.repositories.reports import IndicatorRef, TaskLine, TaskScope
from db.repositories.reports import timeline as timeline_repo


async def active_campaign(session: AsyncSession) -> Campaign:
    campaign = await campaigns_repo.active_campaign(session=session)
    if campaign is None:
        raise InvalidInput("error.no_campaign")
    return campaign


async def summary(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    zone: ZoneInfo,
    readiness: ReadinessCache | None,
    certification: CertificationSource | None = None,
) -> Summary:
    campaign = await active_campaign(session)
    return await build_summary(session, campaign, scope_for(actor), now, zone,
                               readiness=readiness, certification=certification)


@dataclass(frozen=True)
class TaskList:
    lines: list[TaskLine]
    page: Page

    @property
    def total(self) -> int:
        return self.page.total


@dataclass(frozen=True)
class UnitList(TaskList):
    name: str
    standing: Standing | None


@dataclass(frozen=True)
class IndicatorList(TaskList):
    indicator: IndicatorRef


async def _page_of(
    session: AsyncSession, campaign_id: int, actor: Actor, now: datetime, offset: int,
    size: int, **where: Any,
) -> TaskList:
    """A page of task lines; an offset past a shrunken list shows its last page."""
    scope = scope_for(actor)
    lines, total = await reports_repo.task_lines(
        session=session, campaign_id=campaign_id, scope=scope, now=now, limit=size,
        offset=offset, **where,
    )
    page = Page.at(offset, size, total)
    if page.offset != offset:
        lines, total = await reports_repo.task_lines(
            session=session, campaign_id=campaign_id, scope=scope, now=now, limit=size,
            offset=page.offset, **where,
        )
    return TaskList(list(lines), page)


async def unit_list(
    session: AsyncSession, actor: Actor, unit_id: int, now: datetime, *, offset: int = 0,
    size: int,
) -> UnitList:
    """A page of one unit's tasks within the actor's scope, with the unit's standing."""
    campaign = await active_campaign(session)
    units = await reports_repo.units(session=session, ids={unit_id})
    if unit_id not in units:
        raise NotFound("reports.not_found")
    found = await _page_of(session, campaign.id, actor, now, offset, size, unit_id=unit_id)
    # Whoever sees everything sees all of the unit's tasks: count those, not the county.
    scope = scope_for(actor)
    counted = TaskScope(unit_ids=frozenset({unit_id})) if scope.everything else scope
    tallies = await reports_repo.tallies(
        session=session, campaign_id=campaign.id, scope=counted, now=now, by=("unit",)
    )
    tally = next((t for t in tallies["unit"] if t.key == unit_id), None)
    standing = None
    if tally is not None and tally.total > tally.cancelled:  # as ranked: something to do
        standing = Standing(unit_id, units[unit_id].name, counts_of(tally))
    return UnitList(found.lines, found.page, units[unit_id].name, standing)


async def indicator_list(
    session: AsyncSession, actor: Actor, indicator_id: int, now: datetime, *, offset: int = 0,
    size: int,
) -> IndicatorList:
    campaign = await active_campaign(session)
    indicator = (await reports_repo.indicators(session=session)).get(indicator_id)
    if indicator is None:
        raise NotFound("reports.not_found")
    found = await _page_of(session, campaign.id, actor, now, offset, size,
                           indicator_id=indicator_id)
    return IndicatorList(found.lines, found.page, indicator)


async def overdue_list(
    session: AsyncSession, actor: Actor, now: datetime, *, offset: int = 0, size: int
) -> TaskList:
    """A page of late tasks within the actor's scope, the longest overdue first."""
    campaign = await active_campaign(session)
    return await _page_of(session, campaign.id, actor, now, offset, size, overdue_only=True)


async def veto_list(
    session: AsyncSession, actor: Actor, now: datetime, *, offset: int = 0, size: int
) -> TaskList:
    """A page of tasks that put a one-vote-veto indicator at risk (late or blocked)."""
    campaign = await active_campaign(session)
    return await _page_of(session, campaign.id, actor, now, offset, size, veto_risk_only=True)


@dataclass(frozen=True)
class ChartData:
    ranked: list[Standing]
    changes: dict[date, int]
    inspection: date | None


async def chart_data(
    session: AsyncSession, actor: Actor, now: datetime, zone: ZoneInfo
) -> ChartData:
    """Completion by unit and the open-task history, for the charts."""
    campaign = await active_campaign(session)
    scope = scope_for(actor)
    by_unit = (await reports_repo.tallies(
        session=session, campaign_id=campaign.id, scope=scope, now=now, by=("unit",)
    ))["unit"]
    names = await reports_repo.units(
        session=session, ids={t.key for t in by_unit if t.key is not None}
    )
    ranked = rank_units(by_unit, names)
    changes = await timeline_repo.open_count_changes(
        session=session, campaign_id=campaign.id, scope=scope, zone=zone, now=now
    )
    return ChartData(ranked, changes, campaign.inspection_date)


async def bulletin_preview(
    session: AsyncSession, now: datetime, zone: ZoneInfo, readiness: ReadinessCache | None,
    *, rules: bulletin_service.BulletinRules | None = None,
    status: bulletin_service.StatusHook | None = None, language: str = "zh",
) -> tuple[Campaign, bulletin_service.Bulletin]:
    """The bulletin as it would go out now (nothing is queued or logged)."""
    campaign = await active_campaign(session)
    since = await bulletin_service.period_start(session, campaign.id, now)
    built = await bulletin_service.build_bulletin(session, campaign, now, zone, since,
                                                  readiness=readiness, rules=rules,
                                                  status=status, language=language)
    return campaign, built
