"""A changed reminder policy (the config's offsets, a campaign's override, its zone) has the
cursors derived with the old one looked at again; an unchanged one leaves them alone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.config import AppConfig
from bot.core.clock import FrozenClock
from bot.services import Services, build_services
from db.models import OutboxMessage, ReminderCursor, ReminderPolicySeen
from db.repositories import reminders as repo
from tests.conftest import DEFAULT_NOW
from tests.utils import factories as f


async def _seed(services: Services, due_in: timedelta) -> int:
    async with services.session() as s:
        c = await f.campaign(s)
        school = await f.unit(s, "城关小学")
        owner = await f.person(s, "李四", unit=school, telegram_id=8202)
        task = await f.task(s, c, unit=school, owner=owner, title="校舍安全排查",
                            due_at=DEFAULT_NOW + due_in)
        task.created_at = task.updated_at = DEFAULT_NOW - timedelta(days=20)
        return task.id


async def _cursor(services: Services, task_id: int) -> ReminderCursor:
    async with services.session() as s:
        return (await s.execute(select(ReminderCursor).where(
            ReminderCursor.subject == repo.TASK, ReminderCursor.subject_id == task_id,
        ))).scalar_one()


async def _keys(services: Services) -> list[str]:
    """The task reminders queued (the owner's daily digest is not what is tested)."""
    async with services.session() as s:
        keys = (await s.scalars(select(OutboxMessage.key))).all()
    return [k for k in keys if k.startswith("rem:")]


def _with_offsets(config: AppConfig, offsets: list[str]) -> AppConfig:
    reminders = config.reminders.model_copy(update={"offsets": offsets})
    return config.model_copy(update={"reminders": reminders})


async def test_an_added_offset_reaches_a_cursor_waiting_for_a_later_one(
    services: Services, config: AppConfig, clock: FrozenClock
) -> None:
    task_id = await _seed(services, timedelta(days=10))
    await services.reminders.reconcile()
    await services.reminders.sweep()
    waiting = await _cursor(services, task_id)
    # Placed at its first reminder under 3d/1d/2h: three days before the deadline.
    assert waiting.next_at == DEFAULT_NOW + timedelta(days=7)
    assert await _keys(services) == []

    # The office adds "7d" and restarts; six days before the deadline, seven has passed.
    clock.advance(timedelta(days=4))
    restarted = build_services(_with_offsets(config, ["7d", "3d", "1d", "2h"]), clock=clock)
    try:
        await restarted.reminders.reconcile()
        assert (await _cursor(restarted, task_id)).next_at == clock.now()
        await restarted.reminders.sweep()
        keys = await _keys(restarted)
        assert len(keys) == 1 and f"rem:{task_id}:before:7d:" in keys[0]
        async with restarted.session() as s:
            row = (await s.execute(select(OutboxMessage).where(
                OutboxMessage.key == keys[0]))).scalar_one()
        assert "补发" in row.text  # its time was a day ago, and it says so
        # Derived again under the new policy: next, three days before.
        assert (await _cursor(restarted, task_id)).next_at == DEFAULT_NOW + timedelta(days=7)
    finally:
        await restarted.db.dispose()


async def test_an_unchanged_policy_leaves_the_cursors_where_they_wait(
    services: Services, config: AppConfig, clock: FrozenClock
) -> None:
    task_id = await _seed(services, timedelta(days=10))
    await services.reminders.reconcile()
    async with services.session() as s:
        [seen] = (await s.execute(select(ReminderPolicySeen))).scalars().all()
    first = (await _cursor(services, task_id)).next_at
    assert first == DEFAULT_NOW + timedelta(days=7)  # not made due by its own first look

    clock.advance(timedelta(hours=1))
    restarted = build_services(_with_offsets(config, list(config.reminders.offsets)),
                               clock=clock)
    try:
        await restarted.reminders.reconcile()
        assert (await _cursor(restarted, task_id)).next_at == first
        async with restarted.session() as s:
            [again] = (await s.execute(select(ReminderPolicySeen))).scalars().all()
        assert (again.fingerprint, again.seen_at) == (seen.fingerprint, seen.seen_at)
    finally:
        await restarted.db.dispose()


async def test_a_campaigns_override_is_a_change_too(
    services: Services, clock: FrozenClock
) -> None:
    task_id = await _seed(services, timedelta(days=10))
    await services.reminders.reconcile()
    async with services.session() as s:
        await repo.set_policy_override(session=s, campaign_id=1,
                                       overrides='{"offsets": ["9d", "3d"]}', now=clock.now())
    clock.advance(timedelta(days=2))  # nine days had passed a day ago
    await services.reminders.reconcile()  # the job does this every ten minutes
    await services.reminders.sweep()
    keys = await _keys(services)
    assert len(keys) == 1 and f"rem:{task_id}:before:9d:" in keys[0]
