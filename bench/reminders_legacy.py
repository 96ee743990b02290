"""The reminder round as it was before set-based batches (commit 8225b4c), kept callable
so `bench.reminders` can time it against the current code in the same run.

Every due cursor is handled on its own: the task's pending reminders cancelled with one
UPDATE, each reminder queued with one INSERT, and the cursor moved by an autoflushed
UPDATE, all inside one transaction per 500 cursors; digests read each person's tasks with
one query. Nothing here is used by the bot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, exists, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.config import AppConfig
from bot.core.runtime import Core
from bot.delivery.outbox import Outbox
from bot.reminders.lookup import policy_for, zone_of
from bot.reminders.policy import (
    Planned,
    Policy,
    Recipient,
    TaskFacts,
    countdown,
    daily,
    due_now,
    next_time,
    plan_task,
)
from bot.reminders.views import (
    countdown_notice,
    digest,
    escalation,
    leaders_digest,
    owner_reminder,
)
from db.models import (
    Campaign,
    OutboxMessage,
    OutboxState,
    Person,
    ReminderCursor,
    ReminderSnooze,
    Task,
)
from db.models.core import OPEN_STATUSES
from db.repositories import reminders as repo
from db.repositories.reminders import DatedTask

TASK, PERSON, CAMPAIGN = "task", "person", "campaign"
BATCH = 500


class Lookup:
    """Units, campaigns (with policy and zone) and people, each read once per batch."""

    def __init__(self, config: AppConfig) -> None:
        self.config = config
        self.units: dict[int, tuple[int | None, int | None]] = {}
        self.campaigns: dict[int, tuple[Campaign, Policy, ZoneInfo]] = {}
        self.people: dict[int, Person] = {}

    async def load(self, session: AsyncSession, tasks: Sequence[Task]) -> None:
        self.units = await repo.unit_tree(session=session)
        await self.load_campaigns(session, {t.campaign_id for t in tasks})
        leaders = {self.leader_of(t.unit_id, t.owner_id) for t in tasks} - {None}
        self.people = await repo.persons_for(session=session, ids=[i for i in leaders if i])

    async def load_campaigns(self, session: AsyncSession, ids: set[int]) -> None:
        campaigns = await repo.campaigns_for(session=session, ids=ids)
        overrides = await repo.policy_overrides(session=session, ids=ids)
        for cid, campaign in campaigns.items():
            self.campaigns[cid] = (campaign, policy_for(self.config.reminders, overrides.get(cid)),
                                   zone_of(campaign, self.config.zone))

    def leader_of(self, unit_id: int, owner_id: int | None) -> int | None:
        seen: set[int] = set()
        current: int | None = unit_id
        while current is not None and current not in seen:
            seen.add(current)
            parent, leader = self.units.get(current, (None, None))
            if leader is not None and leader != owner_id:
                return leader
            current = parent
        return None


async def _due_cursors(session: AsyncSession, now: datetime, limit: int) -> Sequence[ReminderCursor]:
    stmt = (select(ReminderCursor).where(ReminderCursor.next_at <= now)
            .order_by(ReminderCursor.next_at).limit(limit))
    return (await session.execute(stmt)).scalars().all()


async def _tasks_for(session: AsyncSession, ids: Collection[int]) -> dict[int, Task]:
    stmt = (select(Task).where(Task.id.in_(list(ids)))
            .options(selectinload(Task.owner), selectinload(Task.unit)))
    return {t.id: t for t in (await session.execute(stmt)).scalars().all()}


async def _snoozes_for(session: AsyncSession, task_ids: Collection[int]) -> dict[int, Any]:
    stmt = select(ReminderSnooze).where(ReminderSnooze.task_id.in_(list(task_ids)))
    return {s.task_id: s for s in (await session.execute(stmt)).scalars().all()}


async def _cancel_pending(session: AsyncSession, task_id: int, keep: Collection[str]) -> None:
    stmt = (
        update(OutboxMessage)
        .where(OutboxMessage.task_id == task_id, OutboxMessage.state == OutboxState.PENDING,
               OutboxMessage.kind.startswith("reminder."))
        .values(state=OutboxState.CANCELLED, last_error="no longer applies")
        .execution_options(synchronize_session=False)
    )
    if keep:
        stmt = stmt.where(OutboxMessage.key.not_in(list(keep)))
    await session.execute(stmt)


async def _open_dated_tasks_of(session: AsyncSession, owner_id: int, until: datetime) -> Sequence[Task]:
    stmt = (select(Task)
            .where(Task.owner_id == owner_id, Task.status.in_(OPEN_STATUSES),
                   Task.due_at.is_not(None), Task.due_at < until)
            .order_by(Task.due_at, Task.id))
    return (await session.execute(stmt)).scalars().all()


async def reconcile(session: AsyncSession, now: datetime) -> None:
    """The old reconcile (unchanged in substance): missing cursors, then changed tasks."""
    cursors = ReminderCursor.__table__
    for subject, source in (
        (TASK, select(Task.id).where(Task.status.in_(OPEN_STATUSES), Task.due_at.is_not(None))),
        (PERSON, select(Person.id).where(Person.telegram_id.is_not(None),
                                         Person.is_active.is_(True))),
        (CAMPAIGN, select(Campaign.id).where(Campaign.is_active.is_(True))),
    ):
        ids = source.subquery()
        missing = select(
            literal(subject), ids.c.id, literal(now, ReminderCursor.next_at.type),
            literal(now, ReminderCursor.derived_at.type),
        ).where(~exists().where(and_(cursors.c.subject == subject, cursors.c.subject_id == ids.c.id)))
        await session.execute(insert(ReminderCursor).from_select(
            ["subject", "subject_id", "next_at", "derived_at"], missing))
    await session.execute(
        update(ReminderCursor)
        .where(ReminderCursor.subject == TASK,
               exists().where(Task.id == ReminderCursor.subject_id,
                              Task.updated_at > ReminderCursor.derived_at))
        .values(next_at=now).execution_options(synchronize_session=False))


class LegacyRound:
    """The old `Reminders.sweep`, row by row (one at a time, then the next job scheduled,
    as the old sweep did when `then` is given)."""

    def __init__(self, core: Core, outbox: Outbox,
                 then: Callable[[], Awaitable[None]] | None = None) -> None:
        self.core = core
        self.outbox = outbox
        self.config = core.config.reminders
        self.then = then
        self._lock = asyncio.Lock()

    def _recipient(self, person: Person | None, policy: Policy) -> Recipient | None:
        if person is None:
            return None
        return Recipient(person.telegram_id or 0, person.id,
                         policy.quiet_for(person.quiet_start, person.quiet_end))

    def _facts(self, task: Task, look: Lookup, snooze: Any) -> tuple[TaskFacts, Policy]:
        campaign, policy, zone = look.campaigns[task.campaign_id]
        escalate: list[Recipient] = []
        leader_id = look.leader_of(task.unit_id, task.owner_id)
        leader = self._recipient(look.people.get(leader_id) if leader_id else None, policy)
        if leader is not None:
            escalate.append(leader)
        if campaign.leaders_chat_id:
            escalate.append(Recipient(campaign.leaders_chat_id))
        snoozed = None
        if snooze is not None and snooze.person_id == task.owner_id:
            snoozed = (snooze.set_at, snooze.until)
        return TaskFacts(
            task_id=task.id, due_at=task.due_at, is_open=task.status.is_open, zone=zone,
            created_at=task.created_at, owner=self._recipient(task.owner, policy),
            escalate_to=tuple(escalate), snoozed=snoozed,
        ), policy

    async def start(self) -> int:
        """The old first start: reconcile, then one sweep, before any update is handled."""
        async with self.core.session() as session:
            await reconcile(session, self.core.clock.now())
        return await self.sweep()

    async def sweep(self) -> int:
        queued = 0
        async with self._lock:
            now = self.core.clock.now()
            while True:
                async with self.core.session() as session:
                    cursors = await _due_cursors(session, now, BATCH)
                    queued += await self._process(session, cursors, now)
                if len(cursors) < BATCH:
                    break
        if self.then is not None:
            await self.then()
        return queued

    async def _process(self, session: AsyncSession, cursors: Sequence[ReminderCursor],
                       now: datetime) -> int:
        by_subject: dict[str, list[ReminderCursor]] = {TASK: [], PERSON: [], CAMPAIGN: []}
        for cursor in cursors:
            by_subject.setdefault(cursor.subject, []).append(cursor)
        queued = await self._tasks(session, by_subject[TASK], now)
        queued += await self._people(session, by_subject[PERSON], now)
        queued += await self._campaigns(session, by_subject[CAMPAIGN], now)
        return queued

    async def _tasks(self, session: AsyncSession, cursors: Sequence[ReminderCursor],
                     now: datetime) -> int:
        if not cursors:
            return 0
        tasks = await _tasks_for(session, [c.subject_id for c in cursors])
        snoozes = await _snoozes_for(session, list(tasks))
        look = Lookup(self.core.config)
        await look.load(session, list(tasks.values()))
        queued = 0
        for cursor in cursors:
            task = tasks.get(cursor.subject_id)
            if task is None or not task.status.is_open or task.due_at is None:
                if task is not None:
                    await _cancel_pending(session, task.id, ())
                    await session.execute(delete(ReminderSnooze).where(
                        ReminderSnooze.task_id == task.id))
                await session.delete(cursor)
                continue
            facts, policy = self._facts(task, look, snoozes.get(task.id))
            plan = plan_task(facts, policy, now)
            await _cancel_pending(session, task.id, [p.key for p in plan])
            for planned in due_now(plan, policy, now, task.created_at):
                queued += await self._queue(session, task, planned, look, now)
            cursor.next_at = next_time(plan, now)
            cursor.derived_at = now
        return queued

    async def _queue(self, session: AsyncSession, task: Task, planned: Planned, look: Lookup,
                     now: datetime) -> int:
        recipient = planned.recipient
        texts = self.core.texts
        zone = look.campaigns[task.campaign_id][2]
        person = None
        if recipient.person_id is not None:
            person = task.owner if planned.kind != "escalate" else look.people.get(
                recipient.person_id)
            if person is None or not person.telegram_id or person.unreachable_since:
                return 0
        lang = person.language if person else texts.default
        if planned.kind == "escalate":
            text, markup = escalation(texts, lang, task, planned, now, zone, with_button=bool(person))
            kind = "reminder.escalate"
        else:
            text, markup = owner_reminder(texts, lang, task, planned, now, zone)
            kind = "reminder.owner"
        chat_id = person.telegram_id if person and person.telegram_id else recipient.chat_id
        return int(await self.outbox.enqueue(
            session, key=planned.key, chat_id=chat_id, text=text, kind=kind,
            person_id=recipient.person_id, reply_markup=markup, task_id=task.id))

    async def _people(self, session: AsyncSession, cursors: Sequence[ReminderCursor],
                      now: datetime) -> int:
        if not cursors:
            return 0
        look = Lookup(self.core.config)
        ids = await repo.active_campaign_ids(session=session)
        active = None
        if ids:
            await look.load_campaigns(session, {ids[0]})
            active = look.campaigns.get(ids[0])
        policy = active[1] if active else Policy.from_config(self.config)
        zone = active[2] if active else self.core.config.zone
        people = await repo.persons_for(session=session, ids=[c.subject_id for c in cursors])
        queued = 0
        for cursor in cursors:
            person = people.get(cursor.subject_id)
            if person is None or not person.telegram_id or not person.is_active:
                await session.delete(cursor)
                continue
            quiet = policy.quiet_for(person.quiet_start, person.quiet_end)
            due, upcoming = daily(f"digest:{person.id}", person.digest_time or policy.digest_time,
                                  quiet, zone, now, policy)
            if not person.unreachable_since:
                for occasion in due:
                    tasks = await _open_dated_tasks_of(session, person.id, now + timedelta(days=7))
                    lines = [DatedTask(t.id, t.title, t.due_at) for t in tasks if t.due_at]
                    text = digest(self.core.texts, person.language, person.name, lines, now, zone)
                    if text is not None:
                        queued += int(await self.outbox.enqueue(
                            session, key=occasion.key, chat_id=person.telegram_id, text=text,
                            kind="digest", person_id=person.id))
            cursor.next_at = upcoming
            cursor.derived_at = now
        return queued

    async def _campaigns(self, session: AsyncSession, cursors: Sequence[ReminderCursor],
                         now: datetime) -> int:
        if not cursors:
            return 0
        look = Lookup(self.core.config)
        await look.load_campaigns(session, {c.subject_id for c in cursors})
        queued = 0
        for cursor in cursors:
            entry = look.campaigns.get(cursor.subject_id)
            if entry is None or not entry[0].is_active:
                await session.delete(cursor)
                continue
            campaign, policy, zone = entry
            due, next_digest = daily(f"leaders:{campaign.id}", policy.leaders_digest_time,
                                     policy.quiet, zone, now, policy)
            for occasion in due:
                queued += await self._leaders_digest(session, campaign, occasion.key, now, zone)
            phases = [(p.id, p.name, p.starts_on, p.ends_on) for p in campaign.phases]
            notices, next_notice = countdown(campaign.inspection_date, phases, policy, zone, now,
                                             f"countdown:{campaign.id}")
            for occasion in notices:
                queued += await self._countdown(session, campaign, occasion, zone)
            cursor.next_at = min(t for t in (next_digest, next_notice) if t is not None)
            cursor.derived_at = now
        return queued

    async def _leaders_digest(self, session: AsyncSession, campaign: Campaign, key: str,
                              now: datetime, zone: ZoneInfo) -> int:
        total, overdue, week, units = await repo.campaign_overview(
            session=session, campaign_id=campaign.id, now=now, week_end=now + timedelta(days=7))
        day = now.astimezone(zone).date()
        days_left = (campaign.inspection_date - day).days if campaign.inspection_date else None
        targets: list[tuple[int, int | None, str]] = []
        if campaign.leaders_chat_id:
            targets.append((campaign.leaders_chat_id, None, self.core.texts.default))
        else:
            targets += [(p.telegram_id or 0, p.id, p.language)
                        for p in await repo.leaders(session=session)]
        queued = 0
        for chat_id, person_id, lang in targets:
            text = leaders_digest(self.core.texts, lang, day=day.isoformat(), open_=total,
                                  overdue=overdue, week=week, units=units, days_left=days_left)
            tag = f"p{person_id}" if person_id else f"c{chat_id}"
            queued += int(await self.outbox.enqueue(
                session, key=f"{key}:{tag}", chat_id=chat_id, text=text, kind="leaders_digest",
                person_id=person_id))
        return queued

    async def _countdown(self, session: AsyncSession, campaign: Campaign, occasion: Any,
                         zone: ZoneInfo) -> int:
        event = occasion.key.rsplit(":", 1)[-1]
        phase = ""
        if occasion.key.split(":")[-2].startswith("phase"):
            phase_id = int(occasion.key.split(":")[-2].removeprefix("phase"))
            phase = next((p.name for p in campaign.phases if p.id == phase_id), "")
        day = campaign.inspection_date.isoformat() if campaign.inspection_date else ""
        late_at = occasion.at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if occasion.late else None
        targets: list[tuple[int, int | None, str]] = []
        if campaign.leaders_chat_id:
            targets.append((campaign.leaders_chat_id, None, self.core.texts.default))
        targets += [(p.telegram_id or 0, p.id, p.language)
                    for p in await repo.reachable_people(session=session)]
        queued = 0
        for chat_id, person_id, lang in targets:
            text = countdown_notice(self.core.texts, lang, campaign=campaign.name,
                                    event=event, days=occasion.days, day=day, phase=phase,
                                    late_at=late_at)
            tag = f"p{person_id}" if person_id else f"c{chat_id}"
            queued += int(await self.outbox.enqueue(
                session, key=f"{occasion.key}:{tag}", chat_id=chat_id, text=text,
                kind="countdown", person_id=person_id))
        return queued
