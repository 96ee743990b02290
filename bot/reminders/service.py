"""Sweeps: find the subjects whose time has come, derive what is due, queue it once.

A cursor per subject (task, person's digest, campaign) says when to look next; what is
sent is always derived again from the subject's current state and the policy, and every
message has an idempotency key, so a sweep that runs twice, in two processes, or after
an outage sends each reminder once — late, and only if it still applies.

Task cursors are swept here; person and campaign cursors queue the digests and the
countdown (`bot.reminders.digests`).

A sweep is set-based: due cursors are taken in batches (claimed, on PostgreSQL), each
batch read in a handful of queries, derived in memory and written in one short
transaction (`bot.reminders.batch`), and the work gives way to the updates the bot is
handling (`bot.core.pace`). The 09:00 round moves tens of thousands of cursors without
holding the database or the event loop for long.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.core import metrics
from bot.core.access import Actor, require_task_update, require_task_view
from bot.core.errors import AlreadyDone, InvalidInput
from bot.core.events import TasksChanged
from bot.core.feature import ALL_ROLES, CommandSpec
from bot.core.pace import Pace
from bot.core.runtime import Core
from bot.delivery.outbox import Outbox, Queued
from bot.reminders.batch import Writes
from bot.reminders.digests import Digests
from bot.reminders.lists import KIND as ESCALATION
from bot.reminders.lists import OWNER_KIND
from bot.reminders.lookup import Lookup, policy_for
from bot.reminders.policy import (
    Planned,
    Policy,
    Recipient,
    TaskFacts,
    derive,
    fingerprint,
    lead,
    local_instant,
    plan_task,
)
from bot.reminders.settings import SETTINGS_WORDS
from bot.reminders.views import escalation, nudge_notice, owner_reminder
from bot.tasks.service import load_task
from bot.texts import Label
from db.models import OutboxMessage, OutboxState, Person, Task
from db.repositories import delivery as outbox_repo
from db.repositories import reminder_policies as policies_repo
from db.repositories import reminders as repo
from db.repositories.reminders import CAMPAIGN, PERSON, TASK, DueCursor

log = logging.getLogger(__name__)

# Cursors per batch: each batch is one claim, a few reads and one short write transaction.
BATCH = 250
# A claimed cursor belongs to this sweep until then; if the process dies, it is due again
# (and a task whose reminders could not be derived is looked at again then).
CLAIM = timedelta(minutes=5)
# Cursors created or touched per transaction when reconciling (a bulk load makes many).
TOUCH_CHUNK = 5000
JOB_SWEEP, JOB_NEXT, JOB_RECONCILE = "reminders:sweep", "reminders:next", "reminders:reconcile"
JOB_START = "reminders:start"
RECONCILE_EVERY = timedelta(minutes=10)
# A sweep that has queued this many messages, and at least as many as the outbox held at
# its last analysis, has the outbox analysed again (PostgreSQL): at most a doubling stale.
REFRESH_AFTER = 5000
NUDGE = "nudge"


class _Statistics:
    """Keeps the outbox's planner statistics true while a sweep fills it: a first start
    after a bulk load queues 100,000 messages into an outbox analysed empty, and with
    those statistics PostgreSQL read every pending row for each batch's pending reminders
    (33 s of a 74-second first start at 200,000 tasks)."""

    def __init__(self) -> None:
        self.added = 0
        self.rows: float | None = None  # at the last analysis; inf: no statistics to keep

    async def grew(self, core: Core, added: int) -> None:
        self.added += added
        if self.added < max(REFRESH_AFTER, self.rows or 0):
            return
        async with core.session() as session:
            rows = await outbox_repo.refresh_statistics(session=session)
        self.rows, self.added = (float("inf") if rows is None else rows), 0


class Reminders:
    """The reminders feature: cursors, sweeps and the jobs that run them."""

    commands = (CommandSpec("settings", "reminders.cmd.settings", ALL_ROLES, SETTINGS_WORDS),)

    def __init__(self, core: Core, outbox: Outbox) -> None:
        self.core = core
        self.outbox = outbox
        self.config = core.config.reminders
        self.digests = Digests(core, outbox)
        self._lock = asyncio.Lock()
        # What this process's sweeps did: cursors taken, batches, messages queued, and the
        # milliseconds they paused for the updates being handled (benchmarks and tests read it).
        self.stats: Counter[str] = Counter()

    # Policy and facts ---------------------------------------------------------------

    def policy_for(self, overrides: str | None) -> Policy:
        """The configured policy with a campaign's overrides laid over it."""
        return policy_for(self.config, overrides)

    def recipient(self, person: Person | None, policy: Policy) -> Recipient | None:
        if person is None:
            return None
        return Recipient(person.telegram_id or 0, person.id,
                         policy.quiet_for(person.quiet_start, person.quiet_end))

    def facts(self, task: Task, owner: Person | None, look: Lookup,
              snooze: Any) -> tuple[TaskFacts, Policy]:
        campaign, policy, zone = look.campaigns[task.campaign_id]
        escalate: list[Recipient] = []
        leader_id = look.leader_of(task.unit_id, task.owner_id)
        leader = look.recipient(leader_id, task.campaign_id, self.recipient)
        if leader is not None:
            escalate.append(leader)
        if campaign.leaders_chat_id:
            escalate.append(Recipient(campaign.leaders_chat_id))
        snoozed = None
        if snooze is not None and snooze.person_id == task.owner_id:
            snoozed = (snooze.set_at, snooze.until)
        return TaskFacts(
            task_id=task.id, due_at=task.due_at, is_open=task.status.is_open, zone=zone,
            created_at=task.created_at, owner=self.recipient(owner, policy),
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
            look = Lookup(self.core.config)
            pace = Pace()
            last: DueCursor | None = None
            fresh = _Statistics()
            while True:
                async with self.core.session() as session:
                    cursors = await repo.take_due(session=session, now=now, limit=BATCH,
                                                  until=self.core.clock.now() + CLAIM,
                                                  after=last)
                if not cursors:
                    break
                added = await self._batch(cursors, now, look, pace)
                queued += added
                await fresh.grew(self.core, added)
                self.stats.update(cursors=len(cursors), batches=1)
                if len(cursors) < BATCH:
                    break
                last = cursors[-1]
                await pace.give_way()
            self.stats.update(sweeps=1, queued=queued)
            self.stats["paused_ms"] += int(pace.paused * 1000)
        await self.schedule_next()
        return queued

    async def _batch(self, cursors: Sequence[DueCursor], now: datetime, look: Lookup,
                     pace: Pace) -> int:
        """Read and derive one batch, then write it in one short transaction."""
        writes = Writes()
        by_subject: dict[str, list[DueCursor]] = {TASK: [], PERSON: [], CAMPAIGN: []}
        for cursor in cursors:
            if cursor.subject in by_subject:
                by_subject[cursor.subject].append(cursor)
            else:
                writes.drops.append(cursor)
        async with self.core.session() as session:
            await self._tasks(session, by_subject[TASK], now, look, pace, writes)
            await self.digests.for_people(session, by_subject[PERSON], now, pace, writes)
            await self.digests.for_campaigns(session, by_subject[CAMPAIGN], now, writes)
        async with self.core.session() as session:
            return await writes.apply(session, self.outbox, now)

    async def _tasks(self, session: AsyncSession, cursors: Sequence[DueCursor], now: datetime,
                     look: Lookup, pace: Pace, writes: Writes) -> None:
        if not cursors:
            return
        tasks = await repo.tasks_to_derive(session=session, ids=[c.subject_id for c in cursors])
        snoozes = await repo.snoozes_for(session=session, task_ids=list(tasks))
        pending = await repo.pending_reminders(session=session, task_ids=list(tasks))
        await look.ensure(session, list(tasks.values()))
        wanted: list[tuple[Task, Planned, Person | None]] = []
        for cursor in cursors:
            await pace.step()
            task = tasks.get(cursor.subject_id)
            if task is None or not task.status.is_open or task.due_at is None:
                writes.drops.append(cursor)
                if task is not None:
                    writes.cancel += [message_id for message_id, _ in pending.get(task.id, ())]
                    writes.closed.append(task.id)
                continue
            try:
                owner = look.people.get(task.owner_id) if task.owner_id else None
                facts, policy = self.facts(task, owner, look, snoozes.get(task.id))
                derived = derive(facts, policy, now)
                metrics.REMINDERS_DUE.inc(len(derived.due))
                if task.id in pending:
                    # Rare (a reminder still waiting to be sent): the whole plan says which
                    # of them still apply.
                    keep = {p.key for p in plan_task(facts, policy, now)}
                    writes.cancel += [i for i, key in pending[task.id] if key not in keep]
            except Exception:
                log.exception("reminders of task %s could not be derived", task.id)
                writes.moves.append((cursor, now + CLAIM))
                continue
            for planned in derived.due:
                reachable, person = self._addressee(planned, owner, look)
                if reachable:
                    wanted.append((task, planned, person))
            writes.moves.append((cursor, derived.next_at))
        # A reminder queued already (sent, waiting, or given up on) is not written again; only
        # new ones and cancelled ones (revived) are rendered.
        states = await outbox_repo.states_of(session=session, keys=[p.key for _, p, _ in wanted])
        for task, planned, person in wanted:
            if states.get(planned.key) in (None, OutboxState.CANCELLED):
                await pace.step()
                writes.messages.append(self._message(task, planned, person, look, now))

    def _addressee(self, planned: Planned, owner: Person | None,
                   look: Lookup) -> tuple[bool, Person | None]:
        """Whether the reminder can be sent, and to which linked person (None: a group)."""
        recipient = planned.recipient
        if recipient.person_id is None:
            return True, None
        person = owner if planned.kind != "escalate" else look.people.get(recipient.person_id)
        if person is None or not person.telegram_id or person.unreachable_since:
            return False, None
        return True, person

    def _message(self, task: Task, planned: Planned, person: Person | None, look: Lookup,
                 now: datetime) -> Queued:
        texts = self.core.texts
        zone = look.campaigns[task.campaign_id][2]
        lang = person.language if person else texts.default
        if planned.kind == "escalate":
            # The text names the unit and the owner: the sweep has both read already.
            set_committed_value(task, "unit", look.unit_rows.get(task.unit_id))
            set_committed_value(task, "owner", look.people.get(task.owner_id or 0))
            text, markup = escalation(texts, lang, task, planned, now, zone,
                                      with_button=bool(person))
            kind = ESCALATION
        else:
            text, markup = owner_reminder(texts, lang, task, planned, now, zone)
            kind = OWNER_KIND
        chat_id = person.telegram_id if person and person.telegram_id else planned.recipient.chat_id
        return Queued(key=planned.key, chat_id=chat_id, text=text, kind=kind,
                      person_id=planned.recipient.person_id, reply_markup=markup,
                      task_id=task.id)

    # Keeping cursors true -----------------------------------------------------------

    async def reconcile(self) -> None:
        """Give every open dated task, linked person and active campaign a cursor, and look
        again at tasks changed by a path that did not say so (a bulk import).

        A new task's cursor starts at its first possible reminder (its deadline less the
        policy's `lead`, never after `first_look`): after a bulk load the first sweep
        derives the tasks whose time has come, not every task of the county. The cursors
        are made by the database, a range of task ids a statement, in short transactions
        without holding the database for the whole of it.
        """
        now = self.core.clock.now()
        # First, while only cursors derived before exist: a new cursor below is placed by
        # the policy in force.
        await self._policies_seen(now)
        look = Lookup(self.core.config)
        async with self.core.session() as session:
            new = await repo.new_task_ranges(session=session)
            missing = await repo.missing_cursors(session=session)
            changed = await repo.changed_tasks(session=session)
            await look.load_campaigns(session, set(new))
        year = now.astimezone(self.core.config.zone).year
        for campaign_id, (low, high) in new.items():
            found = look.campaigns.get(campaign_id)
            # A campaign not read: its tasks are looked at now.
            ahead = None if found is None else lead(found[1], found[2], year)
            for after in range(low - 1, high, TOUCH_CHUNK):
                async with self.core.session() as session:
                    await repo.place_new_tasks(session=session, campaign_id=campaign_id,
                                               after=after, upto=after + TOUCH_CHUNK,
                                               lead=ahead, now=now)
                await asyncio.sleep(0)
        for subject, ids in ((TASK, changed), (PERSON, missing[PERSON]),
                             (CAMPAIGN, missing[CAMPAIGN])):
            for start in range(0, len(ids), TOUCH_CHUNK):
                async with self.core.session() as session:
                    await repo.touch(session=session, subject=subject,
                                     ids=ids[start:start + TOUCH_CHUNK], now=now)
                await asyncio.sleep(0)

    async def _policies_seen(self, now: datetime) -> None:
        """A campaign whose policy (the config's `[reminders]`, its override, its zone) is
        not the one its cursors were derived with has them all looked at again: a cursor
        waits for the next reminder of the old policy, and would skip an offset added
        before it, or send a moved overdue time late."""
        look = Lookup(self.core.config)
        async with self.core.session() as session:
            campaigns = await repo.active_campaign_ids(session=session)
            seen = await policies_repo.seen(session=session)
            await look.load_campaigns(session, set(campaigns))
        for campaign_id in campaigns:
            found = look.campaigns.get(campaign_id)
            if found is None:
                continue
            current = fingerprint(found[1], found[2])
            if seen.get(campaign_id) == current:
                continue
            async with self.core.session() as session:
                touched = await policies_repo.policy_changed(
                    session=session, campaign_id=campaign_id, fingerprint=current, now=now)
            if campaign_id in seen:
                log.info("reminder policy of campaign %s changed: %d cursors to derive again",
                         campaign_id, touched)

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
        facts, policy = self.facts(task, task.owner, look, snoozes.get(task.id))
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
        """Sweep as soon as the scheduler can (after the caller's commit).

        A sweep already due sooner is kept: under a steady stream of changes, moving it
        0.2 s later each time would put it off for as long as the stream lasts.
        """
        scheduler = self.core.scheduler
        run = datetime.now(scheduler.zone) + timedelta(seconds=0.2)
        pending = scheduler.next_run(JOB_NEXT) if scheduler.running else None
        if pending is not None and pending <= run:
            return
        scheduler.put(JOB_NEXT, self._timed_sweep, DateTrigger(run_date=run))

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
        """Start-up: install the jobs, and make cursors true and queue what was missed at
        once, in the background, so the bot answers people meanwhile (after a bulk load
        that is every task of the county)."""
        scheduler = self.core.scheduler
        scheduler.put(JOB_SWEEP, self._timed_sweep,
                      IntervalTrigger(seconds=self.config.sweep_seconds))
        scheduler.put(JOB_RECONCILE, self._timed_reconcile,
                      IntervalTrigger(seconds=RECONCILE_EVERY.total_seconds()))
        scheduler.put(JOB_START, self._timed_reconcile,
                      DateTrigger(run_date=datetime.now(scheduler.zone)))

    async def stop(self) -> None:
        """Nothing to let go of: the jobs stop with the scheduler, the cursors stay."""
