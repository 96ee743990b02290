"""What blocks certification: every check of the campaign's standard set with its state and
margin, the schools that pull each coefficient up most, and for the checks no data decides
the progress of the tasks linked to them.

A check is linked to a campaign indicator (`indicator_links`, filled from the campaign file's
`[indicator_data.links]`) by its key or by a shorter prefix of it: `coefficient:primary`
answers every primary coefficient, `veto` every veto item without a link of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.access import Actor
from bot.core.errors import InvalidInput, PermissionDenied
from bot.indicators.balance import CountyBalance, LevelBalance, SchoolCompliance
from bot.indicators.certification import CertificationStatus, Check, CheckKind, certification_status
from bot.indicators.data import County, DataGap, Standards, certification_inputs, load_county
from bot.indicators.formatting import check_numbers, percent
from bot.indicators.records import SchoolRecord
from bot.indicators.standards import StandardSet
from bot.indicators.status import State
from db.models import Indicator
from db.repositories import campaigns as campaigns_repo
from db.repositories import indicators as repo

DRIVERS = 3


def require_leader(actor: Actor) -> None:
    """The county's picture is for the leading group and the office."""
    if not actor.sees_everything:
        raise PermissionDenied("indicators.leaders_only")


async def active_campaign_id(session: AsyncSession) -> int:
    campaign = await campaigns_repo.active_campaign(session=session)
    if campaign is None:
        raise InvalidInput("error.no_campaign")
    return campaign.id


@dataclass(frozen=True)
class Driver:
    """A school's part in a coefficient (for a composite: averaged over its indicators)."""

    name: str
    share: Fraction
    above_mean: bool


@dataclass(frozen=True)
class LinkedTasks:
    code: str
    name: str
    total: int
    done: int
    overdue: int


@dataclass(frozen=True)
class CheckView:
    check: Check
    drivers: tuple[Driver, ...] = ()
    tasks: LinkedTasks | None = None
    failing: tuple[SchoolCompliance, ...] = ()  # a quality set's schools short of the rule
    places: int = 2

    @property
    def blocking(self) -> bool:
        return self.check.state is State.NOT_MET


@dataclass(frozen=True)
class CertificationView:
    standard: StandardSet
    year: int | None
    status: CertificationStatus | None
    checks: tuple[CheckView, ...]
    gaps: tuple[DataGap, ...]

    @property
    def state(self) -> State:
        return self.status.state if self.status is not None else State.UNKNOWN

    def ordered(self) -> list[CheckView]:
        """Vetoes first, then thresholds; within each, not met, unknown, met."""
        rank = {State.NOT_MET: 0, State.UNKNOWN: 1, State.MET: 2}
        return sorted(self.checks, key=lambda c: (c.check.kind is not CheckKind.VETO,
                                                  rank[c.check.state]))


def composite_drivers(level: LevelBalance) -> list[Driver]:
    """Each school's share of the composite: its share of each indicator's Σ 差异情况,
    weighted by that indicator's coefficient."""
    weights: dict[str, Fraction] = {}
    names: dict[str, str] = {}
    above: dict[str, int] = {}
    total = Fraction(0)
    for dispersion in level.dispersions:
        cv = dispersion.cv
        if cv is None:
            continue
        weight = Fraction(cv)
        total += weight
        for share in dispersion.schools:
            weights[share.school_id] = weights.get(share.school_id, Fraction(0)) + weight * share.share
            names[share.school_id] = share.name
            above[share.school_id] = above.get(share.school_id, 0) + (1 if share.above_mean else -1)
    if total == 0:
        return []
    found = [Driver(names[s], w / total, above[s] > 0) for s, w in weights.items()]
    found.sort(key=lambda d: (-d.share, d.name))
    return found


def _drivers(balance: CountyBalance, check: Check) -> tuple[Driver, ...]:
    if check.kind is not CheckKind.COEFFICIENT or check.level is None:
        return ()
    level = balance.level(check.level)
    if check.indicator is None:
        return tuple(composite_drivers(level)[:DRIVERS])
    dispersion = level.dispersion(check.indicator)
    return tuple(Driver(s.name, s.share, s.above_mean) for s in dispersion.schools[:DRIVERS])


def link_for(key: str, links: Mapping[str, Indicator]) -> Indicator | None:
    parts = key.split(":")
    for end in range(len(parts), 0, -1):
        found = links.get(":".join(parts[:end]))
        if found is not None:
            return found
    return None


def _places(standard: StandardSet, check: Check) -> int:
    places = standard.coefficient.display_decimals
    if (check.kind is CheckKind.COEFFICIENT and check.margin is not None
            and check.state is State.NOT_MET and abs(check.margin) < Decimal(5) / 10 ** (places + 1)):
        return places + 2  # 0.6504 against 0.65 must not read "0.65, not met"
    return places


async def certification_view(session: AsyncSession, standards: Standards, county: County,
                             now: datetime) -> CertificationView:
    # Without school figures every coefficient is unknown; the other checks still stand.
    inputs = await certification_inputs(session, standards, county)
    status = certification_status(county.standard, list(county.records), inputs)
    links = await repo.links_of(session=session, campaign_id=county.campaign_id)
    checks = status.checks if status is not None else ()
    linked = {c.key: link_for(c.key, links) for c in checks}
    progress = await repo.task_progress(
        session=session, campaign_id=county.campaign_id,
        indicator_ids=sorted({i.id for i in linked.values() if i is not None}), now=now)
    views = []
    for check in checks:
        indicator = linked[check.key]
        tasks = None
        if indicator is not None:
            p = progress.get(indicator.id)
            tasks = LinkedTasks(indicator.code, indicator.name, p.total if p else 0,
                                p.done if p else 0, p.overdue if p else 0)
        failing: tuple[SchoolCompliance, ...] = ()
        if check.kind is CheckKind.SCHOOL_RULE and status is not None:
            failing = tuple(s for s in status.balance.failing_schools
                            if s.record.level is check.level)
        drivers = _drivers(status.balance, check) if status is not None else ()
        views.append(CheckView(check, drivers, tasks, failing, _places(county.standard, check)))
    return CertificationView(county.standard, county.year, status, tuple(views), county.gaps)


async def for_actor(session: AsyncSession, standards: Standards, actor: Actor, now: datetime
                    ) -> CertificationView:
    require_leader(actor)
    county = await load_county(session, standards, await active_campaign_id(session))
    return await certification_view(session, standards, county, now)


async def chart_data(session: AsyncSession, standards: Standards, actor: Actor, now: datetime
                     ) -> tuple[CertificationView, list[SchoolRecord]]:
    require_leader(actor)
    county = await load_county(session, standards, await active_campaign_id(session))
    if not county.records:
        raise InvalidInput("indicators.no_data")
    return await certification_view(session, standards, county, now), list(county.records)


# The summary's and the bulletin's section ------------------------------------------------
@dataclass(frozen=True)
class BriefLine:
    """One check as the summary shows it; numbers already written out (0.67, ≤0.65)."""

    key: str
    name: str
    veto: bool
    state: State
    value: str
    limit: str
    margin: str
    has_value: bool
    driver: str | None = None
    driver_share: str | None = None
    driver_above: bool = True
    tasks: LinkedTasks | None = None


@dataclass(frozen=True)
class CertificationBrief:
    """Certification status as `/summary` and the bulletin lead with it."""

    standard: str
    year: int | None
    state: State
    lines: tuple[BriefLine, ...]  # vetoes first, then thresholds; not met first

    @property
    def vetoes(self) -> tuple[BriefLine, ...]:
        return tuple(line for line in self.lines if line.veto)

    @property
    def thresholds(self) -> tuple[BriefLine, ...]:
        return tuple(line for line in self.lines if not line.veto)

    def count(self, state: State, *, veto: bool) -> int:
        return sum(1 for line in self.lines if line.state is state and line.veto is veto)


def brief_of(view: CertificationView) -> CertificationBrief:
    lines = []
    for item in view.ordered():
        check = item.check
        driver = item.drivers[0] if item.drivers else None
        value, limit, margin = check_numbers(check, item.places)
        lines.append(BriefLine(
            check.key, check.name, check.kind is CheckKind.VETO, check.state, value, limit,
            margin, check.value is not None, driver.name if driver else None,
            percent(driver.share) if driver else None,
            driver.above_mean if driver else True, item.tasks))
    return CertificationBrief(view.standard.title, view.year, view.state, tuple(lines))


class CertificationSource:
    """What `/summary` and the bulletin ask the indicators for (None: nothing to show)."""

    def __init__(self, standards: Standards) -> None:
        self.standards = standards

    async def brief(self, session: AsyncSession, campaign_id: int, now: datetime
                    ) -> CertificationBrief | None:
        if await repo.settings_of(session=session, campaign_id=campaign_id) is None:
            return None
        county = await load_county(session, self.standards, campaign_id)
        if county.year is None:
            return None
        return brief_of(await certification_view(session, self.standards, county, now))
