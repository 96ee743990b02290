"""The bulletin (工作通报), as a county office issues it.

第 N 期 (numbered per campaign from the bulletin log), the date and the issuing office; a
place at the top for the certification status (another feature renders it, see
`StatusSection`); the overall picture; the one-vote-veto items first; units ranked by
on-time completion of the tasks already due, within their peer group (departments,
townships, schools); praise and criticism by name, by the rules below; the overdue tasks;
next steps (下步工作要求). The same `Bulletin` is rendered as the chat text (HTML, split
within Telegram's limits) and as a printable DOCX (`bot.reports.bulletin_docx`).

Posted to the leading group's chat through the delivery outbox on a schedule, or by the
office on demand: the text, then the DOCX as a document. A scheduled bulletin's key names
its ISO week, so however often the job fires or the bot restarts, a week's bulletin is
queued once.

The rules (documented in docs/reports.md):
- **ranked**: units with at least one task already due (deadline passed, not cancelled),
  by on-time rate = done by the deadline ÷ due; then fewer overdue, more due, name. Equal
  rate and overdue share a place (并列).
- **praise (表扬)**: at least `praise_min_due` tasks due, every one done on time, nothing
  overdue; and every unit that finished all tasks of a phase since the last bulletin.
- **criticism (通报批评)**: an open task under a one-vote-veto indicator past its
  deadline, or any open task more than `criticise_after_days` days past it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.indicators.certify import CertificationSource
from bot.quiz.readiness import ReadinessCache
from bot.reports.summary import (
    Counts,
    Readiness,
    Standing,
    at_risk_indicators,
    current_phase,
    days_until,
    gather_readiness,
)
from bot.reports.views import certification_lines
from bot.texts import Texts
from db.models import Campaign, Phase, UnitKind
from db.repositories import reports as reports_repo
from db.repositories.reports import EVERYTHING, TaskLine
from db.repositories.reports import bulletin as bulletin_repo
from db.repositories.reports import timeline as timeline_repo
from db.repositories.reports.bulletin import DueTally

log = logging.getLogger(__name__)

RANK_ALL_UP_TO = 15  # a peer group larger than this shows its best and last five in chat
RANK_EACH_END = 5
LATE_LIMIT = 15
VETO_TASKS = 10
NAMED_LIMIT = 20  # praised or criticised units named in chat; the DOCX names all
UPCOMING_DAYS = 7
DEFAULT_PERIOD = timedelta(days=7)
GROUPS = ("department", "township", "school", "other")
CHAT_TITLE = 80  # a task's title in chat; the DOCX prints it whole


def peer_group(kind: UnitKind) -> str:
    """Units are compared with their peers: 区直部门, 乡镇, 学校; the rest together."""
    if kind is UnitKind.DEPARTMENT:
        return "department"
    if kind is UnitKind.TOWNSHIP:
        return "township"
    if kind is UnitKind.SCHOOL:
        return "school"
    return "other"


@dataclass(frozen=True)
class BulletinRules:
    praise_min_due: int = 3
    criticise_after_days: int = 7


@dataclass(frozen=True)
class StatusSection:
    """A section rendered by another feature for the top of the bulletin (the certification
    status from the indicator data): a heading and its lines in the bulletin's language,
    the most important first, as chat HTML (parameters escaped, as every catalog text is).
    The chat shows them as they are; the DOCX prints them without the tags."""

    heading: str
    lines: tuple[str, ...]


# Given the session, the campaign, the time and the bulletin's language: the section, or
# None when there is nothing to say. The reports feature builds it from what it is given.
StatusHook = Callable[[AsyncSession, Campaign, datetime, str], Awaitable[StatusSection | None]]


def certification_status(source: CertificationSource, texts: Texts) -> StatusHook:
    """The certification status (bot.indicators) as the bulletin's first section: the
    verdict as its heading, the vetoes and thresholds as its lines."""

    async def section(session: AsyncSession, campaign: Campaign, now: datetime,
                      language: str) -> StatusSection | None:
        brief = await source.brief(session, campaign.id, now)
        lines = certification_lines(texts, language, brief)
        if not lines:
            return None
        return StatusSection(lines[0], tuple(line for line in lines[1:] if line))

    return section


@dataclass(frozen=True)
class Ranked:
    """One unit's place among its peers by on-time completion of what was due."""

    rank: int
    tally: DueTally

    @property
    def rate(self) -> float:
        return self.tally.on_time / self.tally.due if self.tally.due else 0.0


@dataclass(frozen=True)
class Reason:
    text_id: str
    params: dict[str, object]


@dataclass(frozen=True)
class Named:
    """A unit praised or criticised, and why."""

    unit: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class FinishedPhase:
    unit: str
    phase: str


@dataclass(frozen=True)
class NextPhase:
    name: str
    starts_on: date


@dataclass(frozen=True)
class Bulletin:
    campaign_id: int
    campaign_name: str
    issue: int  # 第 N 期
    since: datetime
    until: datetime
    days_to_inspection: int | None
    overall: Counts
    due: int
    on_time: int
    current_phase: str | None
    next_phase: NextPhase | None
    current_phase_ends: date | None
    vetoes: list[Standing]
    veto_tasks: list[TaskLine]
    veto_total: int
    groups: dict[str, list[Ranked]]
    not_due: int  # units with tasks, none due yet
    praised: list[Named]
    criticised: list[Named]
    late: list[TaskLine]
    late_total: int
    late_units: int
    upcoming: int
    finished: list[FinishedPhase] = field(default_factory=list)
    readiness: Readiness | None = None
    status: StatusSection | None = None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None


def scheduled_key(campaign_id: int, at: datetime, zone: ZoneInfo) -> str:
    """`bulletin:<campaign>:<ISO year>-W<week>` of the local date the job fired on."""
    year, week, _ = at.astimezone(zone).isocalendar()
    return f"bulletin:{campaign_id}:{year}-W{week:02d}"


def manual_key(campaign_id: int, at: datetime) -> str:
    return f"bulletin:{campaign_id}:manual:{at.strftime('%Y%m%dT%H%M%S')}"


async def period_start(session: AsyncSession, campaign_id: int, now: datetime) -> datetime:
    """The previous bulletin's time, so "finished a phase" covers exactly the gap."""
    last = await timeline_repo.last_bulletin(session=session, campaign_id=campaign_id)
    return last.sent_at if last is not None else now - DEFAULT_PERIOD


def rank_peers(tallies: Sequence[DueTally]) -> tuple[dict[str, list[Ranked]], int]:
    """Each peer group's units with something due, best first; and how many units have
    nothing due yet (not ranked: 0 % would misjudge them, 100 % flatter them)."""
    groups: dict[str, list[Ranked]] = {}
    waiting = 0
    for group in GROUPS:
        members = [t for t in tallies if peer_group(t.kind) == group and t.due]
        members.sort(key=lambda t: (-t.on_time / t.due, t.overdue, -t.due, t.name))
        ranked: list[Ranked] = []
        for position, tally in enumerate(members, start=1):
            previous = ranked[-1] if ranked else None
            tied = (previous is not None and previous.tally.on_time * tally.due
                    == tally.on_time * previous.tally.due
                    and previous.tally.overdue == tally.overdue)
            ranked.append(Ranked(previous.rank if tied and previous else position, tally))
        if ranked:
            groups[group] = ranked
    waiting = sum(1 for t in tallies if not t.due and t.active)
    return groups, waiting


def praise_and_criticism(
    tallies: Sequence[DueTally], finished: Sequence[FinishedPhase], now: datetime,
    zone: ZoneInfo, rules: BulletinRules,
) -> tuple[list[Named], list[Named]]:
    """Who is named, and why: see the rules in the module's docstring."""
    today = now.astimezone(zone).date()
    praised: dict[str, list[Reason]] = {}
    criticised: list[Named] = []
    for t in sorted(tallies, key=lambda t: (-t.due, t.name)):
        if t.due >= rules.praise_min_due and t.on_time == t.due and not t.overdue:
            praised.setdefault(t.name, []).append(
                Reason("reports.bulletin_praise_on_time", {"due": t.due}))
        reasons: list[Reason] = []
        if t.veto_overdue:
            reasons.append(Reason("reports.bulletin_criticise_veto", {"count": t.veto_overdue}))
        days = (today - t.oldest_due.astimezone(zone).date()).days if t.oldest_due else 0
        if t.overdue and days > rules.criticise_after_days:
            reasons.append(Reason("reports.bulletin_criticise_late",
                                  {"count": t.overdue, "days": days}))
        if reasons:
            criticised.append(Named(t.name, tuple(reasons)))
    for item in finished:
        praised.setdefault(item.unit, []).append(
            Reason("reports.bulletin_praise_phase", {"phase": item.phase}))
    criticised.sort(key=lambda n: (-len(n.reasons), n.unit))
    return [Named(unit, tuple(why)) for unit, why in praised.items()], criticised


def _next_phase(phases: Sequence[Phase], today: date) -> NextPhase | None:
    later = [p for p in phases if p.starts_on is not None and p.starts_on > today]
    first = min(later, key=lambda p: (p.starts_on or today, p.position), default=None)
    return None if first is None or first.starts_on is None else NextPhase(first.name,
                                                                           first.starts_on)


async def build_bulletin(
    session: AsyncSession, campaign: Campaign, now: datetime, zone: ZoneInfo, since: datetime,
    *, readiness: ReadinessCache | None = None, rules: BulletinRules | None = None,
    status: StatusHook | None = None, language: str = "zh", issue: int | None = None,
) -> Bulletin:
    """Everything one issue says, from a handful of aggregate queries."""
    rules = rules or BulletinRules()
    today = now.astimezone(zone).date()
    tallies = await bulletin_repo.due_tallies(session=session, campaign_id=campaign.id, now=now)
    by_indicator = (await reports_repo.tallies(
        session=session, campaign_id=campaign.id, scope=EVERYTHING, now=now, by=("indicator",)
    ))["indicator"]
    vetoes = at_risk_indicators(by_indicator, await reports_repo.indicators(session=session))
    veto_tasks, veto_total = await reports_repo.task_lines(
        session=session, campaign_id=campaign.id, scope=EVERYTHING, now=now,
        veto_risk_only=True, limit=VETO_TASKS,
    )
    late, late_total = await reports_repo.task_lines(
        session=session, campaign_id=campaign.id, scope=EVERYTHING, now=now,
        overdue_only=True, limit=LATE_LIMIT,
    )
    phases = await reports_repo.phases(session=session, campaign_id=campaign.id)
    by_id = {p.id: p for p in phases}
    units = await reports_repo.units(session=session)
    finishes = await timeline_repo.finished_phases(
        session=session, campaign_id=campaign.id, since=since
    )
    finishes.sort(key=lambda f: (by_id[f.phase_id].position if f.phase_id in by_id else 0,
                                 f.finished_at))
    finished = [
        FinishedPhase(units[f.unit_id].name if f.unit_id in units else f"#{f.unit_id}",
                      by_id[f.phase_id].name if f.phase_id in by_id else f"#{f.phase_id}")
        for f in finishes
    ]
    groups, waiting = rank_peers(tallies)
    praised, criticised = praise_and_criticism(tallies, finished, now, zone, rules)
    phase = current_phase(phases, today)
    upcoming = await bulletin_repo.due_between(
        session=session, campaign_id=campaign.id, start=now,
        end=now + timedelta(days=UPCOMING_DAYS),
    )
    if issue is None:
        issue = await bulletin_repo.bulletins_issued(session=session,
                                                     campaign_id=campaign.id) + 1
    overall = Counts(total=sum(t.active for t in tallies), done=sum(t.done for t in tallies),
                     overdue=sum(t.overdue for t in tallies))
    return Bulletin(
        campaign_id=campaign.id,
        campaign_name=campaign.name,
        issue=issue,
        since=since,
        until=now,
        days_to_inspection=days_until(campaign.inspection_date, today),
        overall=overall,
        due=sum(t.due for t in tallies),
        on_time=sum(t.on_time for t in tallies),
        current_phase=phase.name if phase else None,
        next_phase=_next_phase(phases, today),
        current_phase_ends=phase.ends_on if phase else None,
        vetoes=vetoes,
        veto_tasks=list(veto_tasks),
        veto_total=veto_total,
        groups=groups,
        not_due=waiting,
        praised=praised,
        criticised=criticised,
        late=list(late),
        late_total=late_total,
        late_units=sum(1 for t in tallies if t.overdue),
        upcoming=upcoming,
        finished=finished,
        readiness=(None if readiness is None
                   else await gather_readiness(session, EVERYTHING, now, readiness)),
        status=None if status is None else await status(session, campaign, now, language),
    )


# ---------------------------------------------------------------------------------------
# What it says: the same sentences for the chat (HTML) and the DOCX (plain).
