"""Posting the bulletin: to the leading group's chat through the delivery outbox, the text
then the DOCX, on the schedule of `[reports] bulletin_schedule` or on demand. A scheduled
bulletin's key names its ISO week, so however often the job fires or the bot restarts, a
week's bulletin is queued once."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.runtime import Core
from bot.delivery.outbox import Outbox
from bot.quiz.readiness import ReadinessCache
from bot.reports.bulletin import (
    BulletinRules,
    StatusHook,
    build_bulletin,
    manual_key,
    period_start,
    scheduled_key,
)
from bot.reports.bulletin_words import chat_parts, issuer_of, render_bulletin
from bot.texts import Texts
from db.models import BulletinLog, Campaign
from db.repositories import campaigns as campaigns_repo
from db.repositories.reports import timeline as timeline_repo

log = logging.getLogger(__name__)


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
