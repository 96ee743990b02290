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

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.runtime import Core
from bot.core.textfit import clip, plain_text, split_html
from bot.delivery.outbox import Outbox
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
from db.models import BulletinLog, Campaign, Phase, UnitKind
from db.repositories import campaigns as campaigns_repo
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
_LEADING_SYMBOLS = re.compile("^[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]+\\s*")


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


@dataclass(frozen=True)
class RankTable:
    group: str  # heading of the peer group
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Section:
    heading: str
    lines: list[str]
    # The ranking: in chat its lines; in the DOCX the tables, then `notes`.
    tables: list[RankTable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Wording:
    """The bulletin in words: title lines, sections, and the ranking as tables."""

    title: str
    issue: str
    masthead: str
    sections: list[Section]


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{round(100 * value)}%"


def word_bulletin(texts: Texts, lang: str, b: Bulletin, zone: ZoneInfo, issuer: str,
                  *, html: bool, chat: bool) -> Wording:
    """The bulletin's sentences. `html` escapes parameters (chat); `chat` shortens the long
    lists (the DOCX lists everything)."""

    def say(key: str, **params: object) -> str:
        text = texts.get(lang, key, **params)
        # For print: no tags, no entities, no emoji in front of a line.
        return text if html else _LEADING_SYMBOLS.sub("", plain_text(text))

    def rendered(text: str) -> str:
        return text if html else _LEADING_SYMBOLS.sub("", plain_text(text))

    local = b.until.astimezone(zone)
    when = say("reports.bulletin_date", year=local.year, month=local.month, day=local.day)
    sections: list[Section] = []
    if b.status is not None:
        sections.append(Section(rendered(b.status.heading),
                                [rendered(x) for x in b.status.lines]))

    overall = [say("reports.bulletin_overall", date=when, active=b.overall.active,
                   done=b.overall.done, percent=_percent(b.overall.completion), due=b.due,
                   on_time=b.on_time, rate=_percent(b.on_time_rate),
                   overdue=b.overall.overdue)]
    if b.days_to_inspection is not None and b.days_to_inspection >= 0:
        overall.append(say("reports.bulletin_countdown", days=b.days_to_inspection))
    if b.current_phase:
        overall.append(say("reports.bulletin_phase", phase=b.current_phase))
    if b.readiness is not None:
        r = b.readiness
        line = say("reports.bulletin_readiness", percent=round(100 * r.share), ready=r.ready,
                   people=r.people)
        if r.lowest:
            units = texts.plain(lang, "reports.bulletin_readiness_sep").join(
                f"{u.name} {round(100 * u.share_ready)}%" for u in r.lowest)
            line += say("reports.bulletin_readiness_lowest", units=units)
        overall.append(line)
    sections.append(Section(say("reports.bulletin_h_overall"), overall))

    vetoes: list[str] = []
    for v in b.vetoes:
        vetoes.append(say("reports.bulletin_veto_line", code=v.code, name=v.name,
                          overdue=v.counts.overdue, blocked=v.counts.blocked))
    title = CHAT_TITLE if chat else None
    for task in b.veto_tasks:
        vetoes.append(_task_line(say, task, b.until, zone, title))
    if b.veto_total > len(b.veto_tasks):
        vetoes.append(say("reports.more", count=b.veto_total - len(b.veto_tasks)))
    if not vetoes:
        vetoes.append(say("reports.bulletin_veto_none"))
    sections.append(Section(say("reports.bulletin_h_veto"), vetoes))

    ranking: list[str] = [say("reports.bulletin_rank_rule")]
    tables: list[RankTable] = []
    header = [texts.plain(lang, f"reports.bulletin_col.{c}")
              for c in ("rank", "unit", "due", "on_time", "rate", "overdue", "completion")]
    for group, ranked in b.groups.items():
        name = say(f"reports.bulletin_group.{group}")
        ranking.append(say("reports.bulletin_group_line", group=name, count=len(ranked)))
        shown: list[Ranked | None] = list(ranked)
        if chat and len(ranked) > RANK_ALL_UP_TO:
            shown = [*ranked[:RANK_EACH_END], None, *ranked[-RANK_EACH_END:]]
        for item in shown:
            if item is None:
                ranking.append(say("reports.bulletin_gap",
                                   count=len(ranked) - 2 * RANK_EACH_END))
                continue
            t = item.tally
            ranking.append(say("reports.bulletin_rank_line", rank=item.rank, name=t.name,
                               rate=_percent(item.rate), on_time=t.on_time, due=t.due,
                               overdue=t.overdue))
        tables.append(RankTable(texts.plain(lang, f"reports.bulletin_group.{group}"), header, [
            [str(i.rank), i.tally.name, str(i.tally.due), str(i.tally.on_time),
             _percent(i.rate), str(i.tally.overdue),
             _percent(i.tally.done / i.tally.active if i.tally.active else None)]
            for i in ranked
        ]))
    notes = [ranking[0]]
    if not b.groups:
        notes.append(say("reports.bulletin_rank_none"))
    if b.not_due:
        notes.append(say("reports.bulletin_not_due", count=b.not_due))
    ranking += notes[1:]
    sections.append(Section(say("reports.bulletin_h_ranking"), ranking, tables, notes))

    def named(items: list[Named]) -> list[str]:
        limit = NAMED_LIMIT if chat else len(items)
        lines = [
            say("reports.bulletin_named_line", unit=n.unit, why=texts.plain(
                lang, "reports.bulletin_reason_sep").join(
                    texts.plain(lang, r.text_id, **r.params) for r in n.reasons))
            for n in items[:limit]
        ]
        if len(items) > limit:
            lines.append(say("reports.bulletin_named_more", count=len(items) - limit))
        return lines

    sections.append(Section(say("reports.bulletin_h_praise"),
                            named(b.praised) or [say("reports.bulletin_praise_none")]))
    sections.append(Section(say("reports.bulletin_h_criticism"),
                            named(b.criticised) or [say("reports.bulletin_criticism_none")]))

    late = [_task_line(say, task, b.until, zone, title) for task in b.late]
    if b.late_total > len(b.late):
        late.append(say("reports.more", count=b.late_total - len(b.late)))
    sections.append(Section(say("reports.bulletin_h_late", count=b.late_total),
                            late or [say("reports.bulletin_late_none")]))

    steps: list[str] = []
    if b.vetoes:
        steps.append(say("reports.bulletin_step_veto", count=b.veto_total,
                         codes="、".join(v.code for v in b.vetoes)))
    if b.overall.overdue:
        steps.append(say("reports.bulletin_step_late", count=b.overall.overdue,
                         units=b.late_units))
    if b.criticised:
        steps.append(say("reports.bulletin_step_criticised"))
    if b.upcoming:
        steps.append(say("reports.bulletin_step_upcoming", count=b.upcoming,
                         days=UPCOMING_DAYS))
    if b.current_phase and b.current_phase_ends:
        steps.append(say("reports.bulletin_step_phase_ends", phase=b.current_phase,
                         date=b.current_phase_ends.isoformat()))
    if b.next_phase is not None:
        steps.append(say("reports.bulletin_step_next_phase", phase=b.next_phase.name,
                         date=b.next_phase.starts_on.isoformat()))
    if b.readiness is not None and b.readiness.share < b.readiness.threshold:
        steps.append(say("reports.bulletin_step_readiness",
                         percent=round(100 * b.readiness.share)))
    if not steps:
        steps.append(say("reports.bulletin_step_keep"))
    sections.append(Section(say("reports.bulletin_h_steps"),
                            [f"{n}. {s}" for n, s in enumerate(steps, start=1)]))
    return Wording(
        title=say("reports.bulletin_title", campaign=b.campaign_name),
        issue=say("reports.bulletin_issue", issue=b.issue),
        masthead=say("reports.bulletin_masthead", issuer=issuer, date=when),
        sections=sections,
    )


def _task_line(say: Callable[..., str], task: TaskLine, until: datetime, zone: ZoneInfo,
               title: int | None) -> str:
    shown = task.title if title is None else clip(task.title, title)
    if task.due_at is None or task.due_at >= until:
        # A veto item listed for being blocked, not late.
        return say("reports.bulletin_blocked_line", id=task.id, title=shown,
                   unit=task.unit_name, owner=task.owner_name or "—")
    days = max(0, (until.astimezone(zone).date() - task.due_at.astimezone(zone).date()).days)
    return say("reports.bulletin_late_line", id=task.id, title=shown,
               unit=task.unit_name, owner=task.owner_name or "—", days=days)


def issuer_of(texts: Texts, lang: str, configured: str) -> str:
    return configured or texts.plain(lang, "reports.bulletin_default_issuer")


def render_bulletin(texts: Texts, lang: str, bulletin: Bulletin, zone: ZoneInfo,
                    issuer: str = "") -> str:
    """The bulletin as chat HTML; the outgoing layer (or `chat_parts`) splits it to fit."""
    w = word_bulletin(texts, lang, bulletin, zone, issuer_of(texts, lang, issuer), html=True,
                      chat=True)
    lines = [w.title, w.issue, w.masthead]
    sections = w.sections
    if bulletin.overall.total == 0:
        # No tasks yet: the certification status (if any) is still worth reading.
        sections = sections[:1] if bulletin.status is not None else []
    for section in sections:
        # A heading rendered elsewhere (the certification verdict) may carry its own tags.
        heading = section.heading if "<" in section.heading else f"<b>{section.heading}</b>"
        lines += ["", heading, *section.lines]
    if bulletin.overall.total == 0:
        lines += ["", texts.get(lang, "reports.empty")]
    return "\n".join(lines)


def chat_parts(text: str) -> list[str]:
    """The bulletin in messages Telegram accepts, split at line breaks."""
    return split_html(text)


@dataclass(frozen=True)
class Outcome:
    """What happened to a request to post a bulletin."""

    status: str  # "queued", "already" (this week's is out), "no_chat", "no_campaign"
    key: str = ""
    chat_id: int | None = None


async def post_bulletin(
    session: AsyncSession,
    *,
    outbox: Outbox,
    texts: Texts,
    campaign: Campaign,
    chat_id: int | None,
    language: str,
    now: datetime,
    zone: ZoneInfo,
    manual: bool,
    readiness: ReadinessCache | None = None,
    rules: BulletinRules | None = None,
    issuer: str = "",
    status: StatusHook | None = None,
    docx_dir: Path | None = None,
) -> Outcome:
    """Queue the bulletin for the leaders' chat in the caller's transaction, once per key:
    the text (in as many messages as it needs), then the DOCX when `docx_dir` is given.

    The log row and the queued messages commit together, so the next bulletin's period
    and number follow from this one.
    """
    if chat_id is None:
        return Outcome("no_chat")
    key = manual_key(campaign.id, now) if manual else scheduled_key(campaign.id, now, zone)
    if await timeline_repo.bulletin_by_key(session=session, key=key) is not None:
        return Outcome("already", key, chat_id)
    since = await period_start(session, campaign.id, now)
    bulletin = await build_bulletin(session, campaign, now, zone, since, readiness=readiness,
                                    rules=rules, status=status, language=language)
    text = render_bulletin(texts, language, bulletin, zone, issuer)
    for number, part in enumerate(chat_parts(text), start=1):
        await outbox.enqueue(session, key=key if number == 1 else f"{key}:{number}",
                             chat_id=chat_id, text=part, kind="bulletin")
    if docx_dir is not None:
        from bot.reports.bulletin_docx import docx_name, write_docx

        path = docx_dir / str(campaign.id) / docx_name(texts, language, bulletin, zone)
        await asyncio.to_thread(write_docx, path, texts, language, bulletin, zone,
                                issuer_of(texts, language, issuer))
        await outbox.enqueue(
            session, key=f"{key}:docx", chat_id=chat_id, kind="bulletin",
            text=texts.get(language, "reports.bulletin_docx_caption", issue=bulletin.issue),
            document_path=path,
        )
    await timeline_repo.add_bulletin(session=session, entry=BulletinLog(
        campaign_id=campaign.id, key=key, kind="manual" if manual else "scheduled",
        chat_id=chat_id, since=since, sent_at=now,
    ))
    log.info("bulletin %s (issue %d) queued for the leaders' chat", key, bulletin.issue)
    return Outcome("queued", key, chat_id)


def leaders_chat(campaign: Campaign, fallback: int | None) -> int | None:
    return campaign.leaders_chat_id if campaign.leaders_chat_id is not None else fallback


def rules_of(core: Core) -> BulletinRules:
    config = core.config.reports
    return BulletinRules(praise_min_due=config.praise_min_due,
                         criticise_after_days=config.criticise_after_days)


async def post_for_active_campaign(
    core: Core, outbox: Outbox, readiness: ReadinessCache | None, *, manual: bool,
    status: StatusHook | None = None,
) -> Outcome:
    """Queue the bulletin of the active campaign (the scheduled job, the office, the CLI)."""
    config = core.config
    now = core.clock.now()
    async with core.session() as session:
        campaign = await campaigns_repo.active_campaign(session=session)
        if campaign is None:
            return Outcome("no_campaign")
        outcome = await post_bulletin(
            session, outbox=outbox, texts=core.texts,
            campaign=campaign, chat_id=leaders_chat(campaign, config.reports.leaders_chat_id),
            language=config.reports.bulletin_language, now=now, zone=config.zone, manual=manual,
            readiness=readiness, rules=rules_of(core), issuer=config.reports.bulletin_issuer,
            status=status, docx_dir=config.storage.data_dir / "bulletins",
        )
    if outcome.status == "no_chat":
        log.warning("no leaders' chat configured: set [reports] leaders_chat_id")
    return outcome


JOB_ID = "reports:bulletin"


def schedule_bulletins(
    core: Core, outbox: Outbox, readiness: ReadinessCache | None,
    status: StatusHook | None = None,
) -> bool:
    """Put the weekly bulletin job on the scheduler (replacing any earlier one)."""
    spec = core.config.reports.bulletin_schedule
    if not spec:
        core.scheduler.remove(JOB_ID)
        return False
    trigger = CronTrigger.from_crontab(spec, timezone=core.config.zone)
    core.scheduler.put(JOB_ID, _scheduled, trigger, core=core, outbox=outbox,
                       readiness=readiness, status=status)
    return True


async def _scheduled(core: Core, outbox: Outbox, readiness: ReadinessCache | None,
                     status: StatusHook | None = None) -> None:
    try:
        await post_for_active_campaign(core, outbox, readiness, manual=False, status=status)
    except Exception:
        # A scheduler job has nobody to report to; the log is where the office looks.
        log.exception("the scheduled bulletin failed")
