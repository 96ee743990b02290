"""The leaders' summary: who may see what, and how aggregate rows become a summary.

The counting happens in SQL (db/repositories/reports/); everything here is a pure
function of those rows, so each rule has its own unit test.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.access import Actor
from bot.indicators.certify import CertificationBrief, CertificationSource
from db.models import Campaign, Phase
from db.repositories import reports as reports_repo
from db.repositories.reports import (
    EVERYTHING,
    IndicatorRef,
    RankedUnit,
    Tally,
    TaskLine,
    TaskScope,
    UnitRef,
)

if TYPE_CHECKING:  # types only: importing the quizzes loads their word lists (~100 MB)
    from bot.quiz.readiness import ReadinessCache, UnitReadiness

RISK_LIMIT = 10
READINESS_UNITS = 5
UNIT_LINES = 10  # the least complete units a summary names


def scope_for(actor: Actor) -> TaskScope:
    """Leaders and the office see everything; a unit leader the units they lead (their
    subtree) plus their own tasks; anyone else only the tasks they own."""
    if actor.sees_everything:
        return EVERYTHING
    return TaskScope(unit_ids=actor.led_unit_ids, owner_id=actor.person_id)


class Counts(NamedTuple):
    """A group's counts. A tuple rather than a dataclass: a county summary makes one for
    each of 2,000 units, and a tuple is built several times faster."""

    total: int = 0
    done: int = 0
    cancelled: int = 0
    blocked: int = 0
    overdue: int = 0
    undated: int = 0
    progress_sum: int = 0

    @property
    def active(self) -> int:
        """Tasks that count: cancelled ones neither help nor hurt."""
        return self.total - self.cancelled

    @property
    def open(self) -> int:
        return self.active - self.done

    @property
    def completion(self) -> float | None:
        """Share of active tasks done, or None when there is nothing to do."""
        active = self.total - self.cancelled
        return self.done / active if active else None

    @property
    def mean_progress(self) -> float | None:
        active = self.total - self.cancelled
        return self.progress_sum / active if active else None

    def __add__(self, other: object) -> Counts:
        """Counts add field by field (not as tuples concatenate)."""
        if not isinstance(other, Counts):
            return NotImplemented
        return Counts(
            self.total + other.total, self.done + other.done,
            self.cancelled + other.cancelled, self.blocked + other.blocked,
            self.overdue + other.overdue, self.undated + other.undated,
            self.progress_sum + other.progress_sum,
        )


def counts_of(tally: Tally) -> Counts:
    """A tally without its key (the two tuples share their fields' order)."""
    return Counts._make(tally[1:])


def combine(tallies: Iterable[Tally]) -> Counts:
    """The sum of many tallies (a county's 2,000 units), without a Counts per step."""
    total = done = cancelled = blocked = overdue = undated = progress = 0
    for t in tallies:
        total += t.total
        done += t.done
        cancelled += t.cancelled
        blocked += t.blocked
        overdue += t.overdue
        undated += t.undated
        progress += t.progress_sum
    return Counts(total, done, cancelled, blocked, overdue, undated, progress)


class Standing(NamedTuple):
    """One unit, indicator or phase with its counts; `id` None groups tasks without one."""

    id: int | None
    name: str
    counts: Counts
    code: str = ""
    veto: bool = False


def rank_units(tallies: Iterable[Tally], units: Mapping[int, UnitRef]) -> list[Standing]:
    """Units best first: highest completion, then fewer overdue, then name.

    A unit with nothing active to do has no completion rate and is left out of the ranking
    rather than shown as 0 % or 100 %.
    """
    # Plain tuples sorted as they are (a county has 2,000 units): names are unique, and the
    # id after the name settles a fallback name, so the tally itself is never compared.
    keyed = []
    get = units.get
    for t in tallies:
        key = t.key
        active = t.total - t.cancelled
        if key is None or not active:
            continue
        ref = get(key)
        name = ref.name if ref is not None else f"#{key}"
        keyed.append((-(t.done / active), t.overdue, name, key, t))
    keyed.sort()
    return [Standing(key, name, counts_of(t)) for _, _, name, key, t in keyed]


class UnitRanking(NamedTuple):
    """The units as a summary names them: the least complete first (at most `UNIT_LINES`),
    how many units are ranked, and the lowest and highest completion among the others."""

    worst: list[Standing]
    ranked: int = 0
    rest: tuple[float, float] | None = None


def ranking_of(best_first: Sequence[Standing], shown: int = UNIT_LINES) -> UnitRanking:
    """`rank_units`'s order cut to what a summary names."""
    cut = max(len(best_first) - shown, 0)
    rest = best_first[:cut]
    bounds = None
    if rest:
        bounds = (rest[-1].counts.completion or 0.0, rest[0].counts.completion or 0.0)
    return UnitRanking(list(reversed(best_first[cut:])), len(best_first), bounds)


def ranking_from(units: Sequence[RankedUnit], count: int, shown: int = UNIT_LINES) -> UnitRanking:
    """The database's ranking (`county_tallies`: places 1 to `shown` + 1 and the last,
    counted from the least complete) as a summary names it."""
    at = {u.place: Standing(u.tally.key, u.name, counts_of(u.tally)) for u in units}
    worst = [at[place] for place in range(1, min(shown, count) + 1)]
    bounds = None
    if count > shown:
        bounds = (at[shown + 1].counts.completion or 0.0, at[count].counts.completion or 0.0)
    return UnitRanking(worst, count, bounds)


def at_risk_indicators(
    tallies: Iterable[Tally], indicators: Mapping[int, IndicatorRef]
) -> list[Standing]:
    """One-vote-veto indicators with a late or blocked task, the most endangered first."""
    found = []
    for tally in tallies:
        ref = indicators.get(tally.key) if tally.key is not None else None
        if ref is None or not ref.veto:
            continue
        counts = counts_of(tally)
        if counts.overdue or counts.blocked:
            found.append(Standing(ref.id, ref.name, counts, code=ref.code, veto=True))
    found.sort(key=lambda s: (-(s.counts.overdue + s.counts.blocked), s.code))
    return found


def phase_standings(tallies: Iterable[Tally], phases: Sequence[Phase]) -> list[Standing]:
    """Phases in campaign order; tasks without a phase come last, if there are any."""
    by_phase = {t.key: counts_of(t) for t in tallies}
    result = [Standing(p.id, p.name, by_phase.get(p.id, Counts())) for p in phases]
    if None in by_phase:
        result.append(Standing(None, "", by_phase[None]))
    return result


def current_phase(phases: Sequence[Phase], today: date) -> Phase | None:
    """The phase whose dates contain today, else the latest one already begun."""
    started = [p for p in phases if p.starts_on is not None and p.starts_on <= today]
    for phase in started:
        if phase.ends_on is None or today <= phase.ends_on:
            return phase
    return max(started, key=lambda p: (p.starts_on or today, p.position), default=None)


def days_until(day: date | None, today: date) -> int | None:
    return None if day is None else (day - today).days


@dataclass(frozen=True)
class Readiness:
    """Quiz readiness as a reader may see it: everyone counted, and the weakest units."""

    people: int
    ready: int
    threshold: float
    lowest: tuple[UnitReadiness, ...]
    units: int

    @property
    def share(self) -> float:
        return self.ready / self.people


def sees_readiness(scope: TaskScope) -> bool:
    """The whole campaign, or the units one leads; a responsible person's own tasks are no
    basis for judging other people's knowledge."""
    return scope.everything or bool(scope.unit_ids)


def readiness_view(
    rows: Sequence[UnitReadiness], scope: TaskScope, *, threshold: float,
    limit: int = READINESS_UNITS,
) -> Readiness | None:
    """Overall share ready within the scope, then the units with the lowest share first.

    People without a unit count in the whole campaign's share but are no unit to name;
    None when the scope has nobody to count.
    """
    if not sees_readiness(scope):
        return None
    kept = [r for r in rows if scope.everything or r.unit_id in scope.unit_ids]
    people = sum(r.people for r in kept)
    if people == 0:
        return None
    units = [r for r in kept if r.unit_id is not None]
    # Lowest share first; among equals, the unit with more people still to reach the line.
    units.sort(key=lambda r: (r.share_ready, r.ready - r.people, r.name, r.unit_id or 0))
    return Readiness(
        people=people, ready=sum(r.ready for r in kept), threshold=threshold,
        lowest=tuple(units[:limit]), units=len(units),
    )


async def gather_readiness(
    session: AsyncSession, scope: TaskScope, now: datetime, source: ReadinessCache
) -> Readiness | None:
    """The readiness section, skipping the per-person work when nobody may see it or
    nobody has answered a question yet."""
    if not sees_readiness(scope) or not await reports_repo.quiz_started(session=session):
        return None
    rows = await source.rows(session, now)
    return source.derived(("view", scope),
                          lambda: readiness_view(rows, scope, threshold=source.threshold))


@dataclass(frozen=True)
class Summary:
    campaign_id: int
    campaign_name: str
    today: date
    inspection_date: date | None
    days_to_inspection: int | None
    current_phase: str | None
    overall: Counts
    risks: list[TaskLine]
    risk_total: int
    risky_indicators: list[Standing]
    units: UnitRanking
    phases: list[Standing]
    readiness: Readiness | None = None
    # Will the county pass: shown first, to those who see the whole campaign.
    certification: CertificationBrief | None = None

    @property
    def empty(self) -> bool:
        return self.overall.total == 0


@dataclass(frozen=True)
class Aggregates:
    """What one summary reads from the database: counts, and the units already ranked."""

    overall: Counts
    units: UnitRanking
    by_indicator: list[Tally]
    by_phase: list[Tally]
    risks: list[TaskLine]
    risk_total: int
    indicators: dict[int, IndicatorRef]


def assemble(
    campaign: Campaign, phases: Sequence[Phase], data: Aggregates, today: date,
    readiness: Readiness | None = None, certification: CertificationBrief | None = None,
) -> Summary:
    """The summary of one campaign as of `today` (local date), from aggregate rows."""
    phase = current_phase(phases, today)
    return Summary(
        campaign_id=campaign.id,
        campaign_name=campaign.name,
        today=today,
        inspection_date=campaign.inspection_date,
        days_to_inspection=days_until(campaign.inspection_date, today),
        current_phase=phase.name if phase else None,
        overall=data.overall,
        risks=data.risks,
        risk_total=data.risk_total,
        risky_indicators=at_risk_indicators(data.by_indicator, data.indicators),
        units=data.units,
        phases=phase_standings(data.by_phase, phases),
        readiness=readiness,
        certification=certification,
    )


async def gather(
    session: AsyncSession, campaign_id: int, scope: TaskScope, now: datetime
) -> Aggregates:
    """One aggregate over the reader's tasks, and the names of only what it names.

    The whole county's units are ranked by the database, which returns the few a summary
    names; a scoped reader's (a township's 20, a person's few) are ranked here.
    """
    risks, risk_total = await reports_repo.task_lines(
        session=session, campaign_id=campaign_id, scope=scope, now=now,
        veto_risk_only=True, limit=RISK_LIMIT,
    )
    if scope.everything:
        county = await reports_repo.county_tallies(
            session=session, campaign_id=campaign_id, now=now, shown=UNIT_LINES
        )
        overall, by_indicator, by_phase = counts_of(county.overall), county.by_indicator, county.by_phase
        ranking = ranking_from(county.units, county.ranked)
    else:
        counted = await reports_repo.summary_tallies(
            session=session, campaign_id=campaign_id, scope=scope, now=now
        )
        overall, by_indicator, by_phase = combine(counted.by_unit), counted.by_indicator, counted.by_phase
        names = await reports_repo.units(
            session=session, ids={t.key for t in counted.by_unit if t.key is not None}
        )
        ranking = ranking_of(rank_units(counted.by_unit, names))
    indicator_ids = {t.key for t in by_indicator if t.key is not None}
    return Aggregates(
        overall=overall,
        units=ranking,
        by_indicator=by_indicator,
        by_phase=by_phase,
        risks=risks,
        risk_total=risk_total,
        indicators=await reports_repo.indicators(session=session, ids=indicator_ids),
    )


async def build_summary(
    session: AsyncSession, campaign: Campaign, scope: TaskScope, now: datetime, zone: ZoneInfo,
    *, readiness: ReadinessCache | None = None,
    certification: CertificationSource | None = None,
) -> Summary:
    """The summary for `scope`; given a readiness source it includes quiz readiness, given
    a certification source (and a reader who sees everything) the certification status."""
    phases = await reports_repo.phases(session=session, campaign_id=campaign.id)
    data = await gather(session, campaign.id, scope, now)
    section = None if readiness is None else await gather_readiness(session, scope, now, readiness)
    brief = None
    if certification is not None and scope.everything:
        brief = await certification.brief(session, campaign.id, now)
    return assemble(campaign, phases, data, now.astimezone(zone).date(), section, brief)
