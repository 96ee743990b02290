"""Who is ready for the inspectors' questions: mastery per person, indicator and unit.

A person's mastery is the mean, over every question in the bank, of the chance they would
recall its answer today (FSRS; unseen or still-learning questions count 0). "Ready" means
mastery at or above the configured threshold. Weekly figures count answers since Monday
00:00 in the campaign's time zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.access import Actor
from bot.core.errors import PermissionDenied
from bot.core.pace import Pace
from bot.quiz.srs import Srs
from db.models import Unit
from db.repositories import people as people_repo
from db.repositories import quiz as quiz_repo


@dataclass(frozen=True)
class IndicatorMastery:
    code: str
    name: str
    questions: int
    mastery: float


@dataclass(frozen=True)
class PersonStats:
    overall: float
    indicators: tuple[IndicatorMastery, ...]  # weakest first
    due: int
    answers: int
    correct: int

    def weakest(self, count: int = 3) -> tuple[IndicatorMastery, ...]:
        return self.indicators[:count]


@dataclass(frozen=True)
class PersonReadiness:
    person_id: int
    name: str
    unit_id: int | None
    mastery: float
    week_points: float
    week_answers: int
    week_correct: int


@dataclass(frozen=True)
class UnitReadiness:
    unit_id: int | None
    name: str
    people: int
    ready: int
    mastery: float
    week_points: float

    @property
    def share_ready(self) -> float:
        return self.ready / self.people if self.people else 0.0


def week_start(now: datetime, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday, time(0, 0), tzinfo=zone)


async def _mastery_sums(
    session: AsyncSession, srs: Srs, now: datetime, person_ids: Sequence[int] | None,
    pace: Pace | None = None,
) -> dict[int, dict[int, float]]:
    """person_id → indicator_id → summed mastery of that person's cards (read a page at a
    time; given a `pace`, giving way between pages to the updates being handled)."""
    sums: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    mastery = srs.mastery
    async for page in quiz_repo.card_states(session=session, person_ids=person_ids):
        for _, person_id, indicator_id, state, stability, last_review in page:
            sums[person_id][indicator_id] += mastery(state, stability, last_review, now)
        if pace is not None:
            await pace.give_way()
    return sums


async def person_stats(
    session: AsyncSession, srs: Srs, *, person_id: int, now: datetime
) -> PersonStats:
    counts = await quiz_repo.question_counts_by_indicator(session=session)
    sums = (await _mastery_sums(session, srs, now, [person_id])).get(person_id, {})
    indicators = {i.id: i for i in await people_repo.all_indicators(session=session)}
    rows = [
        IndicatorMastery(indicators[iid].code, indicators[iid].name, n, sums.get(iid, 0.0) / n)
        for iid, n in counts.items()
        if n and iid in indicators
    ]
    rows.sort(key=lambda r: (r.mastery, r.code))
    total = sum(counts.values())
    overall = sum(sums.values()) / total if total else 0.0
    answers, correct, _ = (await quiz_repo.review_totals_since(session=session, since=None)).get(
        person_id, (0, 0, 0.0)
    )
    due = await quiz_repo.count_due(session=session, person_id=person_id, now=now)
    return PersonStats(overall, tuple(rows), due, answers, correct)


async def people_readiness(
    session: AsyncSession, srs: Srs, *, now: datetime, zone: ZoneInfo, pace: Pace | None = None
) -> list[PersonReadiness]:
    """Every linked, active person with their mastery and this week's answers."""
    people = await people_repo.linked_people(session=session)
    total = sum((await quiz_repo.question_counts_by_indicator(session=session)).values())
    sums = await _mastery_sums(session, srs, now, None, pace)
    week = await quiz_repo.review_totals_since(session=session, since=week_start(now, zone))
    result = []
    for person_id, name, unit_id in people:
        mastered = sum(sums.get(person_id, {}).values())
        answers, correct, points = week.get(person_id, (0, 0, 0.0))
        result.append(PersonReadiness(
            person_id, name, unit_id, mastered / total if total else 0.0,
            points, answers, correct,
        ))
    return result


def rank_people(rows: Sequence[PersonReadiness], *, weekly: bool) -> list[PersonReadiness]:
    """Best first: by this week's points, or by overall mastery."""
    if weekly:
        return sorted(rows, key=lambda r: (-r.week_points, -r.week_correct, r.name, r.person_id))
    return sorted(rows, key=lambda r: (-r.mastery, -r.week_points, r.name, r.person_id))


def by_unit(
    rows: Sequence[PersonReadiness], units: Sequence[Unit], *, threshold: float, weekly: bool
) -> list[UnitReadiness]:
    """Per unit: people, how many are ready, mean mastery and mean weekly points; best first."""
    names = {u.id: u.name for u in units}
    grouped: dict[int | None, list[PersonReadiness]] = defaultdict(list)
    for row in rows:
        grouped[row.unit_id].append(row)
    result = [
        UnitReadiness(
            unit_id,
            names.get(unit_id, "") if unit_id is not None else "",
            len(members),
            sum(1 for m in members if m.mastery >= threshold),
            sum(m.mastery for m in members) / len(members),
            sum(m.week_points for m in members) / len(members),
        )
        for unit_id, members in grouped.items()
    ]
    if weekly:
        result.sort(key=lambda u: (-u.week_points, -u.mastery, u.name))
    else:
        result.sort(key=lambda u: (-u.share_ready, -u.mastery, u.name))
    return result


async def readiness_by_unit(
    session: AsyncSession,
    *,
    now: datetime,
    zone: ZoneInfo,
    threshold: float,
    srs: Srs | None = None,
    pace: Pace | None = None,
) -> list[UnitReadiness]:
    """For the leaders' summary: per unit, the share of people whose mastery ≥ threshold."""
    rows = await people_readiness(session, srs or Srs(), now=now, zone=zone, pace=pace)
    units = await people_repo.all_units(session=session)
    return by_unit(rows, units, threshold=threshold, weekly=False)


_T = TypeVar("_T")
# Views kept per snapshot (one per reader's scope): a bound, not a working set.
MAX_DERIVED = 256


class ReadinessCache:
    """Per-unit readiness as of a few minutes ago, for summaries and bulletins.

    It changes only as people answer, and computing it walks every card (about 0.4 s for
    2,000 people with 20 cards each), so readers take a snapshot that a scheduler job
    keeps fresh instead of paying for it on every /summary.
    """

    def __init__(
        self,
        *,
        zone: ZoneInfo,
        threshold: float,
        max_age: timedelta = timedelta(minutes=10),
        srs: Srs | None = None,
    ) -> None:
        self.zone = zone
        self.threshold = threshold
        self.max_age = max_age
        self.srs = srs or Srs()
        self._rows: list[UnitReadiness] | None = None
        self._at: datetime | None = None
        self._derived: dict[Hashable, Any] = {}

    async def rows(self, session: AsyncSession, now: datetime) -> list[UnitReadiness]:
        if self._rows is not None and self._at is not None and now - self._at < self.max_age:
            return self._rows
        return await self.refresh(session, now)

    async def refresh(self, session: AsyncSession, now: datetime) -> list[UnitReadiness]:
        """Compute the snapshot again, a page of cards at a time, giving way to the updates
        being handled (read at once, the cards held the event loop for up to 0.19–0.30 s
        every five minutes at 2,000 people with 20 cards each)."""
        self._rows = await readiness_by_unit(
            session, now=now, zone=self.zone, threshold=self.threshold, srs=self.srs,
            pace=Pace(),
        )
        self._at = now
        self._derived = {}
        return self._rows

    def derived(self, key: Hashable, make: Callable[[], _T]) -> _T:
        """What `make` derives from the current snapshot, made once per snapshot and key
        (a county summary ranks 2,000 units' readiness: 1.3 ms, the same until the next
        refresh). Call it after `rows()`, with what `make` depends on in the key."""
        if key not in self._derived:
            if len(self._derived) >= MAX_DERIVED:
                self._derived.clear()
            self._derived[key] = make()
        found: _T = self._derived[key]
        return found


def visible_to(actor: Actor, rows: list[PersonReadiness]) -> list[PersonReadiness]:
    """Leaders and the office see everyone; a unit's leader sees the units they lead."""
    if actor.sees_everything:
        return rows
    if actor.is_unit_leader:
        return [r for r in rows if r.unit_id in actor.led_unit_ids]
    raise PermissionDenied("error.forbidden")


@dataclass(frozen=True)
class Standings:
    units: list[UnitReadiness]
    people: list[PersonReadiness]
    unit_names: dict[int, str]


async def standings(
    session: AsyncSession,
    srs: Srs,
    actor: Actor,
    *,
    now: datetime,
    zone: ZoneInfo,
    threshold: float,
    weekly: bool,
) -> Standings:
    """/rank: the units and people the actor may see, by this week's answers or mastery."""
    rows = visible_to(actor, await people_readiness(session, srs, now=now, zone=zone))
    units = await people_repo.all_units(session=session)
    return Standings(
        units=by_unit(rows, units, threshold=threshold, weekly=weekly),
        people=rank_people(rows, weekly=weekly),
        unit_names={u.id: u.name for u in units},
    )
