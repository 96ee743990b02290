"""The daily review reminder: at each person's chosen local time, if they have due cards,
one message through the delivery outbox (which keeps it to once per person and day)."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.runtime import Core
from bot.delivery.outbox import Outbox
from bot.reminders.policy import Policy, QuietHours
from bot.texts import Texts
from db.models import OutboxMessage, Person, QuizPreference
from db.repositories import quiz as quiz_repo

log = logging.getLogger(__name__)

JOB_ID = "quiz:review-reminders"
KIND = "quiz.review"
_TIME = re.compile(r"^([01]?[0-9]|2[0-3])[:：]([0-5][0-9])$")


def parse_time(text: str) -> time | None:
    """"20:00", "8:30" or "20：00" (a Chinese colon) → a time; anything else → None."""
    match = _TIME.match(text.strip())
    return time(int(match.group(1)), int(match.group(2))) if match else None


async def review_time(session: AsyncSession, person_id: int, *, default: time) -> time | None:
    """When the person's daily review reminder comes (None: they turned it off)."""
    pref = await quiz_repo.ensure_preference(session=session, person_id=person_id)
    if not pref.reminders_on:
        return None
    return pref.review_time or default


async def set_review_time(session: AsyncSession, person_id: int, at: time | None) -> None:
    """Move the daily review reminder to `at`, or turn it off (None)."""
    pref = await quiz_repo.ensure_preference(session=session, person_id=person_id)
    pref.reminders_on = at is not None
    if at is not None:
        pref.review_time = at


def reminder_key(person_id: int, day: date) -> str:
    return f"{KIND}:{person_id}:{day.isoformat()}"


def is_time(pref: QuizPreference | None, local_now: datetime, default: time) -> bool:
    at = pref.review_time if pref is not None and pref.review_time is not None else default
    return local_now.time().replace(tzinfo=None) >= at


async def queue_reminders(
    session: AsyncSession,
    outbox: Outbox,
    *,
    now: datetime,
    zone: ZoneInfo,
    default_time: time,
    texts: Texts,
    policy: Policy,
) -> int:
    """Queue today's reminder for everyone whose time has come; returns how many."""
    local_now = now.astimezone(zone)
    today = local_now.date()
    ready: list[tuple[Person, QuizPreference | None]] = [
        (person, pref)
        for person, pref in await quiz_repo.reminder_people(session=session, today=today)
        if is_time(pref, local_now, default_time)
    ]
    if not ready:
        return 0
    due = await quiz_repo.due_counts(session=session, person_ids=[p.id for p, _ in ready], now=now)
    queued = 0
    for person, pref in ready:
        if pref is None:
            pref = await quiz_repo.ensure_preference(session=session, person_id=person.id)
        # Considered once a day, whether or not anything was due at that moment.
        pref.last_reminded_on = today
        count = due.get(person.id, 0)
        if count == 0 or person.telegram_id is None:
            continue
        quiet: QuietHours = policy.quiet_for(person.quiet_start, person.quiet_end)
        queued += await outbox.enqueue(
            session,
            key=reminder_key(person.id, today),
            chat_id=person.telegram_id,
            text=texts.get(person.language, "quiz.reminder", count=count),
            kind=KIND,
            person_id=person.id,
            not_before=quiet.defer(now, zone),
        )
    await session.flush()
    return queued


async def still_due(session: AsyncSession, message: OutboxMessage, now: datetime) -> bool:
    """Guard: a reminder held back by quiet hours is dropped if the person caught up."""
    if message.person_id is None:
        return True
    return await quiz_repo.count_due(session=session, person_id=message.person_id, now=now) > 0


def schedule(core: Core, outbox: Outbox) -> None:
    """Every minute, queue the reminders whose local time has come (the outbox dedupes)."""

    async def run() -> None:
        config = core.config
        async with core.session() as session:
            await queue_reminders(
                session, outbox, now=core.clock.now(), zone=config.zone,
                default_time=config.quiz.review_time, texts=core.texts,
                policy=Policy.from_config(config.reminders),
            )

    core.scheduler.put(JOB_ID, run, IntervalTrigger(minutes=1))
