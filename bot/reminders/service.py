"""Sweeps: find the subjects whose time has come, derive what is due, queue it once.

A cursor per subject (task, person's digest, campaign) says when to look next; what is
sent is always derived again from the subject's current state and the policy, and every
message has an idempotency key, so a sweep that runs twice, in two processes, or after
an outage sends each reminder once — late, and only if it still applies.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.access import Actor, require_task_update
from bot.core.errors import InvalidInput
from bot.core.events import TasksChanged
from bot.core.feature import ALL_ROLES, CommandSpec
from bot.core.runtime import Core
from bot.delivery.outbox import Outbox
from bot.reminders.policy import (
    Planned,
    Policy,
    Recipient,
    TaskFacts,
    countdown,
    daily,
    due_now,
    local_instant,
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
from bot.tasks.service import load_task
from db.models import Campaign, OutboxMessage, Person, ReminderCursor, Task
from db.repositories import reminders as repo
from db.repositories.reminders import CAMPAIGN, PERSON, TASK

log = logging.getLogger(__name__)

BATCH = 500
JOB_SWEEP, JOB_NEXT, JOB_RECONCILE = "reminders:sweep", "reminders:next", "reminders:reconcile"
RECONCILE_EVERY = timedelta(minutes=10)


class _Lookup:
    """What one sweep batch reads once: units, campaigns with their policies, people."""

    def __init__(self, reminders: Reminders) -> None:
        self.r = reminders
        self.units: dict[int, tuple[int | None, int | None]] = {}
        self.campaigns: dict[int, tuple[Campaign, Policy, ZoneInfo]] = {}
        self.people: dict[int, Person] = {}

    async def load(self, session: AsyncSession, tasks: Sequence[Task]) -> None:
        self.units = await repo.unit_tree(session=session)
        ids = {t.campaign_id for t in tasks}
        await self.load_campaigns(session, ids)
        leaders = {self.leader_of(t.unit_id, t.owner_id) for t in tasks} - {None}
        self.people = await repo.persons_for(session=session, ids=[i for i in leaders if i])

    async def load_campaigns(self, session: AsyncSession, ids: set[int]) -> None:
        campaigns = await repo.campaigns_for(session=session, ids=ids)
        overrides = await repo.policy_overrides(session=session, ids=ids)
        for cid, campaign in campaigns.items():
            self.campaigns[cid] = (campaign, self.r.policy_for(overrides.get(cid)),
                                   self.r.zone_of(campaign))

    def leader_of(self, unit_id: int, owner_id: int | None) -> int | None:
        """The nearest unit up the tree with a leader other than the owner."""
        seen: set[int] = set()
        current: int | None = unit_id
        while current is not None and current not in seen:
            seen.add(current)
            parent, leader = self.units.get(current, (None, None))
            if leader is not None and leader != owner_id:
                return leader
            current = parent
        return None


class Reminders:
    """The reminders feature: cursors, sweeps and the jobs that run them."""

    commands = (CommandSpec("settings", "reminders.cmd.settings", ALL_ROLES),)

    def __init__(self, core: Core, outbox: Outbox) -> None:
        self.core = core
        self.outbox = outbox
        self.config = core.config.reminders
        self._lock = asyncio.Lock()

    # Policy and facts ---------------------------------------------------------------

    def policy_for(self, overrides: str | None) -> Policy:
        try:
            return Policy.from_json(self.config, overrides)
        except ValueError:
            log.warning("ignoring an invalid campaign reminder policy: %s", overrides)
            return Policy.from_config(self.config)

    def zone_of(self, campaign: Campaign | None) -> ZoneInfo:
        try:
            return ZoneInfo(campaign.timezone) if campaign else self.core.config.zone
        except (ValueError, KeyError):
            return self.core.config.zone

    def recipient(self, person: Person | None, policy: Policy) -> Recipient | None:
        if person is None:
            return None
        return Recipient(person.telegram_id or 0, person.id,
                         policy.quiet_for(person.quiet_start, person.quiet_end))

    def facts(self, task: Task, look: _Lookup, snooze: Any) -> tuple[TaskFacts, Policy]:
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
        queued += await self._digests(session, by_subject[PERSON], now)
        queued += await self._campaigns(session, by_subject[CAMPAIGN], now)
        return queued

    async def _tasks(
        self, session: AsyncSession, cursors: Sequence[ReminderCursor], now: datetime
    ) -> int:
        if not cursors:
            return 0
        tasks = await repo.tasks_for(session=session, ids=[c.subject_id for c in cursors])
        snoozes = await repo.snoozes_for(session=session, task_ids=list(tasks))
        look = _Lookup(self)
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
        self, session: AsyncSession, task: Task, planned: Planned, look: _Lookup, now: datetime
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
            text, markup = escalation(texts, lang, task, planned, zone, with_button=bool(person))
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

    async def _default_campaign(
        self, session: AsyncSession, look: _Lookup
    ) -> tuple[Campaign, Policy, ZoneInfo] | None:
        ids = await repo.active_campaign_ids(session=session)
        if not ids:
            return None
        await look.load_campaigns(session, {ids[0]})
        return look.campaigns.get(ids[0])

    async def _digests(
        self, session: AsyncSession, cursors: Sequence[ReminderCursor], now: datetime
    ) -> int:
        if not cursors:
            return 0
        look = _Lookup(self)
        active = await self._default_campaign(session, look)
        policy = active[1] if active else Policy.from_config(self.config)
        zone = active[2] if active else self.core.config.zone
        people = await repo.persons_for(session=session, ids=[c.subject_id for c in cursors])
        queued = 0
        for cursor in cursors:
            person = people.get(cursor.subject_id)
            if person is None or not person.telegram_id or not person.is_active:
                await repo.delete_cursor(session=session, cursor=cursor)
                continue
            quiet = policy.quiet_for(person.quiet_start, person.quiet_end)
            due, upcoming = daily(f"digest:{person.id}", person.digest_time or policy.digest_time,
                                  quiet, zone, now, policy)
            if not person.unreachable_since:
                for occasion in due:
                    tasks = await repo.open_dated_tasks_of(
                        session=session, owner_id=person.id, until=now + timedelta(days=7))
                    text = digest(self.core.texts, person.language, person.name, tasks,
                                  now, zone)
                    if text is not None:
                        queued += int(await self.outbox.enqueue(
                            session, key=occasion.key, chat_id=person.telegram_id, text=text,
                            kind="digest", person_id=person.id))
            cursor.next_at = upcoming
            cursor.derived_at = now
        return queued

    async def _campaigns(
        self, session: AsyncSession, cursors: Sequence[ReminderCursor], now: datetime
    ) -> int:
        if not cursors:
            return 0
        look = _Lookup(self)
        await look.load_campaigns(session, {c.subject_id for c in cursors})
        queued = 0
        for cursor in cursors:
            entry = look.campaigns.get(cursor.subject_id)
            if entry is None or not entry[0].is_active:
                await repo.delete_cursor(session=session, cursor=cursor)
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

    async def _leaders_digest(
        self, session: AsyncSession, campaign: Campaign, key: str, now: datetime, zone: ZoneInfo
    ) -> int:
        total, overdue, week, units = await repo.campaign_overview(
            session=session, campaign_id=campaign.id, now=now, week_end=repo.week_after(now))
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

    async def _countdown(
        self, session: AsyncSession, campaign: Campaign, occasion: Any, zone: ZoneInfo
    ) -> int:
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
        look = _Lookup(self)
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
        look = _Lookup(self)
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
