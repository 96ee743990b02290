"""Sweeps on a real database and a frozen clock: derived, queued once, kept true."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.core.access import actor_for
from bot.core.clock import FrozenClock
from bot.reminders.service import JOB_NEXT, Reminders
from bot.services import Services
from bot.tasks import service as task_service
from db.models import OutboxMessage, OutboxState, Person, Role, Task
from tests.conftest import DEFAULT_NOW
from tests.utils import factories as f

GROUP_CHAT = -100555


def _reminders(services: Services) -> Reminders:
    return services.reminders


async def _seed(services: Services, due_in: timedelta) -> tuple[int, int, int]:
    async with services.session() as s:
        c = await f.campaign(s)
        c.leaders_chat_id = GROUP_CHAT
        edu = await f.unit(s, "县教育局")
        chief = await f.person(s, "局长", unit=edu, telegram_id=8001)
        edu.leader_id = chief.id
        owner = await f.person(s, "张三", unit=edu, telegram_id=8002)
        admin = await f.person(s, "办公室", role=Role.ADMIN, telegram_id=8003)
        task = await f.task(s, c, unit=edu, owner=owner, title="完善控辍保学台账",
                            due_at=DEFAULT_NOW + due_in)
        task.created_at = DEFAULT_NOW - timedelta(days=10)
        return task.id, owner.id, admin.id


async def _rows(services: Services, task_id: int | None = None) -> list[OutboxMessage]:
    async with services.session() as s:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if task_id is not None:
            stmt = stmt.where(OutboxMessage.task_id == task_id)
        return list((await s.execute(stmt)).scalars().all())


async def test_each_reminder_is_queued_once_at_its_time(
    services: Services, clock: FrozenClock
) -> None:
    task_id, _, _ = await _seed(services, timedelta(days=3, hours=1))
    reminders = _reminders(services)
    await reminders.reconcile()
    await reminders.sweep()
    # 09:00: the owner's 08:00 digest is due (the task is due within the week), and the
    # leaders' 08:30 digest goes to the group's chat; no task reminder yet.
    assert sorted(r.kind for r in await _rows(services)) == ["digest", "leaders_digest"]
    assert await _rows(services, task_id) == []

    clock.advance(timedelta(hours=1))
    assert await reminders.sweep() == 1
    assert await reminders.sweep() == 0
    [row] = await _rows(services, task_id)
    assert row.kind == "reminder.owner" and row.chat_id == 8002
    assert "还剩 3 天" in row.text and "补发" not in row.text
    assert row.key == f"rem:{task_id}:before:3d:20261122T0200Z:p{(row.person_id)}"

    # A second process sweeping the same database queues nothing more.
    assert await _reminders(services).sweep() == 0


async def test_moving_the_deadline_cancels_what_no_longer_applies(
    services: Services, clock: FrozenClock
) -> None:
    task_id, _, admin_id = await _seed(services, timedelta(days=3))
    reminders = _reminders(services)
    await reminders.reconcile()
    await reminders.sweep()
    [queued] = await _rows(services, task_id)
    assert queued.state is OutboxState.PENDING
    async with services.session() as s:
        admin = await s.get(Person, admin_id)
        assert admin is not None
        actor = await actor_for(session=s, person=admin)
        await task_service.move_deadline(s, actor, task_id, DEFAULT_NOW + timedelta(days=9),
                                         clock.now())
    # The change was published after commit; the next sweep derives the task again.
    await reminders.sweep()
    [cancelled] = await _rows(services, task_id)
    assert cancelled.state is OutboxState.CANCELLED
    async with services.session() as s:
        assert not await reminders.still_applies(s, cancelled, clock.now())
    clock.advance(timedelta(days=6))
    await reminders.sweep()
    rows = await _rows(services, task_id)
    assert [(r.state, "还剩 3 天" in r.text) for r in rows][-1] == (OutboxState.PENDING, True)


async def test_a_task_done_before_its_reminder_gets_none(
    services: Services, clock: FrozenClock
) -> None:
    task_id, owner_id, _ = await _seed(services, timedelta(days=3))
    reminders = _reminders(services)
    await reminders.reconcile()
    await reminders.sweep()
    [row] = await _rows(services, task_id)
    async with services.session() as s:
        owner = await s.get(Person, owner_id)
        assert owner is not None
        await task_service.complete(s, await actor_for(session=s, person=owner), task_id,
                                    clock.now())
    # Right before sending, the dispatcher asks the guard: the task is done.
    async with services.session() as s:
        assert not await reminders.still_applies(s, row, clock.now())
    clock.advance(timedelta(days=5))
    await reminders.sweep()
    assert [r.state for r in await _rows(services, task_id)] == [OutboxState.CANCELLED]


async def test_after_an_outage_only_the_latest_missed_reminder_is_sent_late(
    services: Services, clock: FrozenClock
) -> None:
    task_id, _, _ = await _seed(services, timedelta(days=5))
    reminders = _reminders(services)
    await reminders.reconcile()
    await reminders.sweep()
    clock.advance(timedelta(days=4, hours=3))  # down across the 3-day and 1-day reminders
    await reminders.sweep()
    [row] = await _rows(services, task_id)
    assert ":before:1d:" in row.key and "补发" in row.text


async def test_overdue_escalates_to_the_unit_leader_and_the_leading_group(
    services: Services, clock: FrozenClock
) -> None:
    task_id, _, _ = await _seed(services, timedelta(days=-3, hours=-1))  # due 3 days ago 08:00
    reminders = _reminders(services)
    await reminders.reconcile()
    await reminders.sweep()
    rows = await _rows(services, task_id)
    assert sorted((r.kind, r.chat_id) for r in rows) == [
        ("reminder.escalate", GROUP_CHAT), ("reminder.escalate", 8001),
        ("reminder.owner", 8002),
    ]
    assert all("逾期 3 天" in r.text for r in rows)
    # The leader's copy opens the task; the group's has no buttons.
    assert {r.chat_id: r.reply_markup is not None for r in rows if "escalate" in r.kind} == {
        GROUP_CHAT: False, 8001: True}


async def test_reconcile_catches_changes_made_without_an_event(
    services: Services, clock: FrozenClock
) -> None:
    task_id, _, _ = await _seed(services, timedelta(days=30))
    reminders = _reminders(services)
    await reminders.reconcile()
    await reminders.sweep()
    async with services.session() as s:  # e.g. a bulk import writing rows directly
        task = await s.get(Task, task_id)
        assert task is not None
        task.due_at = clock.now() + timedelta(hours=1)
        task.updated_at = clock.now() + timedelta(seconds=1)
    clock.advance(timedelta(seconds=2))
    await reminders.reconcile()
    await reminders.sweep()
    [row] = await _rows(services, task_id)
    assert ":before:2h:" in row.key


async def test_a_stream_of_changes_does_not_put_the_next_sweep_off(services: Services) -> None:
    reminders = _reminders(services)
    services.scheduler.start()
    try:
        reminders.soon()
        first = services.scheduler.next_run(JOB_NEXT)
        for _ in range(3):  # changes a few milliseconds apart, well within the 0.2 s
            await asyncio.sleep(0.01)
            reminders.soon()
        assert services.scheduler.next_run(JOB_NEXT) == first
    finally:
        services.scheduler.shutdown()
