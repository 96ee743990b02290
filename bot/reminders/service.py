"""Sweeps: find the subjects whose time has come, derive what is due, queue it once.

A cursor per subject (task, person's digest, campaign) says when to look next; what is
sent is always derived again from the subject's current state and the policy, and every
message has an idempotency key, so a sweep that runs twice, in two processes, or after
an outage sends each reminder once — late, and only if it still applies.

Task cursors are swept here; person and campaign cursors queue the digests and the
countdown (`bot.reminders.digests`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.access import Actor, require_task_update, require_task_view
from bot.core.errors import AlreadyDone, InvalidInput
from bot.core.events import TasksChanged
from bot.core.feature import ALL_ROLES, CommandSpec
from bot.core.runtime import Core
from bot.delivery.outbox import Outbox
from bot.reminders.digests import Digests
from bot.reminders.lookup import Lookup, policy_for
from bot.reminders.policy import (
    Planned,
    Policy,
    Recipient,
    TaskFacts,
    due_now,
    local_instant,
    next_time,
    plan_task,
)
from bot.reminders.settings import SETTINGS_WORDS
from bot.reminders.views import escalation, nudge_notice, owner_reminder
from bot.tasks.service import load_task
from bot.texts import Label
from db.models import OutboxMessage, Person, ReminderCursor, Task
from db.repositories import reminders as repo
from db.repositories.reminders import CAMPAIGN, PERSON, TASK

log = logging.getLogger(__name__)

BATCH = 500
JOB_SWEEP, JOB_NEXT, JOB_RECONCILE = "reminders:sweep", "reminders:next", "reminders:reconcile"
RECONCILE_EVERY = timedelta(minutes=10)
NUDGE = "nudge"


class Reminders:
    """The reminders feature: cursors, sweeps and the jobs that run them."""

    commands = (CommandSpec("settings", "reminders.cmd.settings", ALL_ROLES, SETTINGS_WORDS),)

    def __init__(self, core: Core, outbox: Outbox) -> None:
        self.core = core
        self.outbox = outbox
        self.config = core.config.reminders
        self.digests = Digests(core, outbox)
        self._lock = asyncio.Lock()

    # Policy and facts ---------------------------------------------------------------

    def policy_for(self, overrides: str | None) -> Policy:
        """The configured policy with a campaign's overrides laid over it."""
        return policy_for(self.config, overrides)

    def recipient(self, person: Person | None, policy: Policy) -> Recipient | None:
        if person is None:
            return None
        return Recipient(person.telegram_id or 0, person.id,
                         policy.quiet_for(person.quiet_start, person.quiet_end))

    def facts(self, task: Task, look: Lookup, snooze: Any) -> tuple[TaskFacts, Policy]:
        campaign, policy, zone = look.campaigns[task.campaign_id]
        escalate: list[Recipient] = []
        leader_id = look.leader_of(task.unit_id, task.owner_id)
        leader = self.recipient(look.people.get(leader_id) if leader_id else None, policy)
        if leader is not None:
            escalate.append(leader)
        if campaign.leaders_chat_id:
            escalate.append(Recipient(campaign.leaders_chat_id))
        snoozed = None
        if snooze is not None and snooze.person_id == task.owner_id:
            snoozed = (snooze.set_at, snooze.until)
        return TaskFacts(
            task_id=task.id, due_at=task.due_at, is_open=task.status.is_open, zone=zone,
            created_at=task.created_at, owner=self.recipient(task.owner, policy),
            escalate_to=tuple(escalate), snoozed=snoozed,
        ), policy

    # Sweeping -----------------------------------------------------------------------

    async def sweep(self) -> int:
        """Queue everything due now; returns how many messages were queued."""
        if not self.config.enabled:
            return 0
        queued = 0
        async with self._lock:
            now = self.core.clock.now()
            while True:
                async with self.core.session() as session:
                    cursors = await repo.due_cursors(session=session, now=now, limit=BATCH)
                    queued += await self._process(session, cursors, now)
                if len(cursors) < BATCH:
                    break
        await self.schedule_next()
        return queued

    async def _process(
        self, session: AsyncSession, cursors: Sequence[ReminderCursor], now: datetime
    ) -> int:
        by_subject: dict[str, list[ReminderCursor]] = {TASK: [], PERSON: [], CAMPAIGN: []}
        for cursor in cursors:
            by_subject.setdefault(cursor.subject, []).append(cursor)
        queued = await self._tasks(session, by_subject[TASK], now)
        queued += await self.digests.for_people(session, by_subject[PERSON], now)
        queued += await self.digests.for_campaigns(session, by_subject[CAMPAIGN], now)
        return queued

    async def _tasks(
        self, session: AsyncSession, cursors: Sequence[ReminderCursor], now: datetime
    ) -> int:
        if not cursors:
            return 0
        tasks = await repo.tasks_for(session=session, ids=[c.subject_id for c in cursors])
        snoozes = await repo.snoozes_for(session=session, task_ids=list(tasks))
        look = Lookup(self.core.config)
        await look.load(session, list(tasks.values()))
        queued = 0
        for cursor in cursors:
            task = tasks.get(cursor.subject_id)
            if task is None or not task.status.is_open or task.due_at is None:
                if task is not None:
                    await repo.cancel_pending(session=session, task_id=task.id, keep=())
                    await repo.drop_snoozes(session=session, task_id=task.id)
                await repo.delete_cursor(session=session, cursor=cursor)
                continue
            facts, policy = self.facts(task, look, snoozes.get(task.id))
            plan = plan_task(facts, policy, now)
            await repo.cancel_pending(session=session, task_id=task.id, keep=[p.key for p in plan])
            for planned in due_now(plan, policy, now, task.created_at):
                queued += await self._queue_task_reminder(session, task, planned, look, now)
            cursor.next_at = next_time(plan, now)
            cursor.derived_at = now
        return queued

    async def _queue_task_reminder(
        self, session: AsyncSession, task: Task, planned: Planned, look: Lookup, now: datetime
    ) -> int:
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
            text, markup = escalation(texts, lang, task, planned, now, zone,
                                      with_button=bool(person))
            kind = "reminder.escalate"
        else:
            text, markup = owner_reminder(texts, lang, task, planned, now, zone)
            kind = "reminder.owner"
        chat_id = person.telegram_id if person and person.telegram_id else recipient.chat_id
        queued = await self.outbox.enqueue(
            session, key=planned.key, chat_id=chat_id, text=text, kind=kind,
            person_id=recipient.person_id, reply_markup=markup, task_id=task.id,
        )
        return int(queued)

    # Keeping cursors true -----------------------------------------------------------

    async def reconcile(self) -> None:
        async with self.core.session() as session:
            await repo.reconcile(session=session, now=self.core.clock.now())

    async def on_task_change(self, change: TasksChanged) -> None:
        """Tasks changed (committed): derive their reminders again at once, in one go."""
        async with self.core.session() as session:
            await repo.touch(session=session, subject=TASK, ids=change.task_ids,
                             now=self.core.clock.now())
        self.soon()

    async def person_changed(self, session: AsyncSession, person_id: int) -> None:
        """Quiet hours or digest time changed: look again at everything of theirs."""
        now = self.core.clock.now()
        await repo.touch_tasks_of_owner(session=session, owner_id=person_id, now=now)
        await repo.touch(session=session, subject=PERSON, ids=[person_id], now=now)

    async def still_applies(self, session: AsyncSession, message: OutboxMessage, now: datetime) -> bool:
        """Delivery guard: is this task reminder still derived from the task right now?"""
        if message.task_id is None:
            return False
        tasks = await repo.tasks_for(session=session, ids=[message.task_id])
        task = tasks.get(message.task_id)
        if task is None:
            return False
        look = Lookup(self.core.config)
        await look.load(session, [task])
        snoozes = await repo.snoozes_for(session=session, task_ids=[task.id])
        facts, policy = self.facts(task, look, snoozes.get(task.id))
        return message.key in {p.key for p in plan_task(facts, policy, now)}

    async def snooze(
        self, session: AsyncSession, actor: Actor, task_id: int, *, minutes: int | None,
        now: datetime,
    ) -> datetime:
        """Remind the owner again in `minutes`, or tomorrow morning when None."""
        task = await load_task(session, task_id)
        require_task_update(actor, task)
        if not task.status.is_open:
            raise InvalidInput("error.task_closed", task_id=task.id)
        look = Lookup(self.core.config)
        await look.load_campaigns(session, {task.campaign_id})
        _, policy, zone = look.campaigns[task.campaign_id]
        if minutes is not None:
            until = now + timedelta(minutes=minutes)
        else:
            tomorrow = now.astimezone(zone).date() + timedelta(days=1)
            until = local_instant(tomorrow, policy.morning, zone)
        await repo.set_snooze(session=session, task_id=task.id, person_id=actor.person_id,
                              set_at=now, until=until)
        await repo.touch(session=session, subject=TASK, ids=[task.id], now=now)
        self.soon()
        return until

    async def nudge(
        self, session: AsyncSession, actor: Actor, task_id: int, *, now: datetime
    ) -> tuple[Task, str]:
        """A leader reminds the task's owner (once a day each): queued like a reminder,
        held back by the owner's quiet hours. Returns the task and the owner's name."""
        task = await load_task(session, task_id)
        require_task_view(actor, task)
        owner = task.owner
        if owner is None or owner.id == actor.person_id:
            raise InvalidInput("reminders.nudge.own")
        if not task.status.is_open:
            raise AlreadyDone("reminders.nudge.closed", id=task.id,
                              status=Label(f"status.{task.status.value}"))
        if not owner.telegram_id or not owner.is_active or owner.unreachable_since:
            raise InvalidInput("reminders.nudge.unreachable", name=owner.name)
        look = Lookup(self.core.config)
        await look.load_campaigns(session, {task.campaign_id})
        _, policy, zone = look.campaigns[task.campaign_id]
        text, keyboard = nudge_notice(self.core.texts, owner.language, task, actor.name, zone)
        day = now.astimezone(zone).date().isoformat()
        queued = await self.outbox.enqueue(
            session, key=f"nudge:{task.id}:{actor.person_id}:{day}", chat_id=owner.telegram_id,
            text=text, kind=NUDGE, person_id=owner.id, reply_markup=keyboard, task_id=task.id,
            not_before=policy.quiet_for(owner.quiet_start, owner.quiet_end).defer(now, zone),
        )
        if not queued:
            raise AlreadyDone("reminders.nudge.already", name=owner.name)
        return task, owner.name

    async def nudge_applies(
        self, session: AsyncSession, message: OutboxMessage, now: datetime
    ) -> bool:
        """Delivery guard: a nudge held back overnight is dropped once the task is closed
        or belongs to someone else."""
        if message.task_id is None:
            return False
        task = (await repo.tasks_for(session=session, ids=[message.task_id])).get(message.task_id)
        return task is not None and task.status.is_open and task.owner_id == message.person_id

    # Scheduling ---------------------------------------------------------------------

    def soon(self) -> None:
        """Sweep as soon as the scheduler can (after the caller's commit)."""
        scheduler = self.core.scheduler
        scheduler.put(JOB_NEXT, self._timed_sweep,
                      DateTrigger(run_date=datetime.now(scheduler.zone) + timedelta(seconds=0.2)))

    async def schedule_next(self) -> None:
        """A job at the earliest cursor, so nothing waits for the periodic sweep."""
        async with self.core.session() as session:
            at = await repo.earliest_cursor(session=session)
        if at is None:
            return
        # Scheduler time is wall-clock time; the sweep itself reads the injected clock.
        delay = max(0.0, (at - self.core.clock.now()).total_seconds())
        run = datetime.now(self.core.scheduler.zone) + timedelta(seconds=delay + 0.05)
        self.core.scheduler.put(JOB_NEXT, self._timed_sweep, DateTrigger(run_date=run))

    async def _timed_sweep(self) -> None:
        try:
            await self.sweep()
        except Exception:
            log.exception("reminder sweep failed")

    async def _timed_reconcile(self) -> None:
        try:
            await self.reconcile()
            await self.sweep()
        except Exception:
            log.exception("reminder reconcile failed")

    async def start(self) -> None:
        """Start-up: make cursors true, send what was missed, then install the jobs."""
        await self.reconcile()
        await self.sweep()
        scheduler = self.core.scheduler
        scheduler.put(JOB_SWEEP, self._timed_sweep,
                      IntervalTrigger(seconds=self.config.sweep_seconds))
        scheduler.put(JOB_RECONCILE, self._timed_reconcile,
                      IntervalTrigger(seconds=RECONCILE_EVERY.total_seconds()))

    async def stop(self) -> None:
        """Nothing to let go of: the jobs stop with the scheduler, the cursors stay."""
