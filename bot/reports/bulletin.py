"""The bulletin (通报): units ranked, late tasks named with their owners, phases finished.

Built from the same aggregates as the summary; posted to the leading group's chat through
the delivery outbox on a schedule, or by the office on demand. A scheduled bulletin's key
names its ISO week, so however often the job fires or the bot restarts, a week's bulletin
is queued once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.runtime import Core
from bot.delivery.outbox import Outbox
from bot.indicators.certify import CertificationBrief, CertificationSource
from bot.quiz.readiness import ReadinessCache
from bot.reports.summary import (
    Counts,
    Readiness,
    Standing,
    combine,
    days_until,
    gather_readiness,
    rank_units,
)
from bot.reports.views import certification_lines
from bot.texts import Texts
from db.models import BulletinLog, Campaign
from db.repositories import campaigns as campaigns_repo
from db.repositories import reports as reports_repo
from db.repositories.reports import EVERYTHING, TaskLine
from db.repositories.reports import timeline as timeline_repo

log = logging.getLogger(__name__)

RANK_ALL_UP_TO = 20  # more ranked units than this: the best ten and the last ten
RANK_EACH_END = 10
LATE_LIMIT = 15
FINISHED_LIMIT = 15
DEFAULT_PERIOD = timedelta(days=7)
MESSAGE_LIMIT = 4096  # Telegram's limit for one text message


@dataclass(frozen=True)
class FinishedPhase:
    unit: str
    phase: str


@dataclass(frozen=True)
class Bulletin:
    campaign_id: int
    campaign_name: str
    since: datetime
    until: datetime
    days_to_inspection: int | None
    overall: Counts
    ranked: list[Standing]
    late: list[TaskLine]
    late_total: int
    finished: list[FinishedPhase]
    readiness: Readiness | None = None
    certification: CertificationBrief | None = None


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


async def build_bulletin(
    session: AsyncSession, campaign: Campaign, now: datetime, zone: ZoneInfo, since: datetime,
    *, readiness: ReadinessCache | None = None,
    certification: CertificationSource | None = None,
) -> Bulletin:
    by_unit = (await reports_repo.tallies(
        session=session, campaign_id=campaign.id, scope=EVERYTHING, now=now, by=("unit",)
    ))["unit"]
    units = await reports_repo.units(session=session)
    late, late_total = await reports_repo.task_lines(
        session=session, campaign_id=campaign.id, scope=EVERYTHING, now=now,
        overdue_only=True, limit=LATE_LIMIT,
    )
    phases = {p.id: p for p in await reports_repo.phases(session=session, campaign_id=campaign.id)}
    finishes = await timeline_repo.finished_phases(
        session=session, campaign_id=campaign.id, since=since
    )
    finishes.sort(key=lambda f: (phases[f.phase_id].position if f.phase_id in phases else 0,
                                 f.finished_at))
    section = None
    if readiness is not None:
        section = await gather_readiness(session, EVERYTHING, now, readiness)
    finished = [
        FinishedPhase(units[f.unit_id].name if f.unit_id in units else f"#{f.unit_id}",
                      phases[f.phase_id].name if f.phase_id in phases else f"#{f.phase_id}")
        for f in finishes
    ]
    return Bulletin(
        campaign_id=campaign.id,
        campaign_name=campaign.name,
        since=since,
        until=now,
        days_to_inspection=days_until(campaign.inspection_date, now.astimezone(zone).date()),
        overall=combine(by_unit),
        ranked=rank_units(by_unit, units),
        late=late,
        late_total=late_total,
        finished=finished,
        readiness=section,
        certification=(None if certification is None
                       else await certification.brief(session, campaign.id, now)),
    )


def _readiness_line(texts: Texts, lang: str, readiness: Readiness) -> str:
    line = texts.get(lang, "reports.bulletin_readiness",
                     percent=round(100 * readiness.share), ready=readiness.ready,
                     people=readiness.people)
    if readiness.lowest:
        units = texts.plain(lang, "reports.bulletin_readiness_sep").join(
            f"{u.name} {round(100 * u.share_ready)}%" for u in readiness.lowest
        )
        line += texts.get(lang, "reports.bulletin_readiness_lowest", units=units)
    return line


def _rank_lines(texts: Texts, lang: str, ranked: list[Standing]) -> list[str]:
    def line(rank: int, s: Standing) -> str:
        done = round(100 * (s.counts.completion or 0))
        return texts.get(lang, "reports.bulletin_rank_line", rank=rank, name=s.name,
                         percent=done, done=s.counts.done, active=s.counts.active,
                         overdue=s.counts.overdue)

    if len(ranked) <= RANK_ALL_UP_TO:
        return [line(i + 1, s) for i, s in enumerate(ranked)]
    head = [line(i + 1, s) for i, s in enumerate(ranked[:RANK_EACH_END])]
    tail_start = len(ranked) - RANK_EACH_END
    tail = [line(tail_start + i + 1, s) for i, s in enumerate(ranked[tail_start:])]
    return [*head, texts.get(lang, "reports.bulletin_gap", count=tail_start - RANK_EACH_END),
            *tail]


def render_bulletin(texts: Texts, lang: str, bulletin: Bulletin, zone: ZoneInfo) -> str:
    """The bulletin as HTML, kept within one Telegram message."""
    fmt = "%Y-%m-%d"
    lines = [texts.get(
        lang, "reports.bulletin_title", campaign=bulletin.campaign_name,
        since=bulletin.since.astimezone(zone).strftime(fmt),
        until=bulletin.until.astimezone(zone).strftime(fmt),
    )]
    if bulletin.days_to_inspection is not None and bulletin.days_to_inspection >= 0:
        lines.append(texts.get(lang, "reports.bulletin_countdown",
                               days=bulletin.days_to_inspection))
    # Certification status and the veto items come before the task figures.
    certification = certification_lines(texts, lang, bulletin.certification)
    if certification:
        lines += ["", *certification, ""]
    overall = bulletin.overall
    if overall.total == 0:
        lines.append(texts.get(lang, "reports.empty"))
        return "\n".join(lines)
    lines.append(texts.get(
        lang, "reports.bulletin_overall",
        percent=round(100 * (overall.completion or 0)), done=overall.done,
        active=overall.active, overdue=overall.overdue,
    ))
    if bulletin.readiness is not None:
        lines.append(_readiness_line(texts, lang, bulletin.readiness))
    lines += ["", texts.get(lang, "reports.bulletin_ranking_header")]
    lines += _rank_lines(texts, lang, bulletin.ranked)
    lines += ["", texts.get(lang, "reports.bulletin_late_header", count=bulletin.late_total)]
    if not bulletin.late:
        lines.append(texts.get(lang, "reports.bulletin_late_none"))
    for task in bulletin.late:
        days = max(0, (bulletin.until.astimezone(zone).date()
                       - task.due_at.astimezone(zone).date()).days) if task.due_at else 0
        lines.append(texts.get(lang, "reports.bulletin_late_line", id=task.id, title=task.title,
                               unit=task.unit_name, owner=task.owner_name or "—", days=days))
    if bulletin.late_total > len(bulletin.late):
        lines.append(texts.get(lang, "reports.more", count=bulletin.late_total - len(bulletin.late)))
    lines += ["", texts.get(lang, "reports.bulletin_finished_header")]
    if not bulletin.finished:
        lines.append(texts.get(lang, "reports.bulletin_finished_none"))
    for item in bulletin.finished[:FINISHED_LIMIT]:
        lines.append(texts.get(lang, "reports.bulletin_finished_line", unit=item.unit,
                               phase=item.phase))
    if len(bulletin.finished) > FINISHED_LIMIT:
        lines.append(texts.get(lang, "reports.more", count=len(bulletin.finished) - FINISHED_LIMIT))
    return _fit("\n".join(lines), texts.get(lang, "reports.bulletin_cut"))


def _fit(text: str, cut_note: str) -> str:
    """Trim whole lines from the end so the message stays within Telegram's limit."""
    if len(text) <= MESSAGE_LIMIT:
        return text
    kept: list[str] = []
    size = len(cut_note) + 1
    for line in text.split("\n"):
        if size + len(line) + 1 > MESSAGE_LIMIT:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join([*kept, cut_note])


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
    certification: CertificationSource | None = None,
) -> Outcome:
    """Queue the bulletin for the leaders' chat in the caller's transaction, once per key.

    The log row and the queued message commit together, so the next bulletin's period
    starts where this one ended.
    """
    if chat_id is None:
        return Outcome("no_chat")
    key = manual_key(campaign.id, now) if manual else scheduled_key(campaign.id, now, zone)
    if await timeline_repo.bulletin_by_key(session=session, key=key) is not None:
        return Outcome("already", key, chat_id)
    since = await period_start(session, campaign.id, now)
    bulletin = await build_bulletin(session, campaign, now, zone, since, readiness=readiness,
                                    certification=certification)
    text = render_bulletin(texts, language, bulletin, zone)
    await outbox.enqueue(
        session, key=key, chat_id=chat_id, text=text, kind="bulletin"
    )
    await timeline_repo.add_bulletin(session=session, entry=BulletinLog(
        campaign_id=campaign.id, key=key, kind="manual" if manual else "scheduled",
        chat_id=chat_id, since=since, sent_at=now,
    ))
    log.info("bulletin %s queued for the leaders' chat", key)
    return Outcome("queued", key, chat_id)


def leaders_chat(campaign: Campaign, fallback: int | None) -> int | None:
    return campaign.leaders_chat_id if campaign.leaders_chat_id is not None else fallback


async def post_for_active_campaign(
    core: Core, outbox: Outbox, readiness: ReadinessCache | None, *, manual: bool,
    certification: CertificationSource | None = None,
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
            readiness=readiness, certification=certification,
        )
    if outcome.status == "no_chat":
        log.warning("no leaders' chat configured: set [reports] leaders_chat_id")
    return outcome


JOB_ID = "reports:bulletin"


def schedule_bulletins(
    core: Core, outbox: Outbox, readiness: ReadinessCache | None,
    certification: CertificationSource | None = None,
) -> bool:
    """Put the weekly bulletin job on the scheduler (replacing any earlier one)."""
    spec = core.config.reports.bulletin_schedule
    if not spec:
        core.scheduler.remove(JOB_ID)
        return False
    trigger = CronTrigger.from_crontab(spec, timezone=core.config.zone)
    core.scheduler.put(JOB_ID, _scheduled, trigger, core=core, outbox=outbox,
                       readiness=readiness, certification=certification)
    return True


async def _scheduled(core: Core, outbox: Outbox, readiness: ReadinessCache | None,
                     certification: CertificationSource | None = None) -> None:
    try:
        await post_for_active_campaign(core, outbox, readiness, manual=False,
                                       certification=certification)
    except Exception:
        # A scheduler job has nobody to report to; the log is where the office looks.
        log.exception("the scheduled bulletin failed")
