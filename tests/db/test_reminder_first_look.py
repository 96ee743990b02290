"""A bulk load's cursors start at each task's first possible reminder: the first sweep
derives only the tasks whose time has come, and over the days that follow exactly the
same reminders go out as if every task had been looked at at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, insert, select, text

from bot.core.clock import FrozenClock
from bot.reminders import service
from bot.reminders.policy import first_look, lead
from bot.services import Services
from db.models import OutboxMessage, ReminderCursor, Task
from db.repositories import reminders as repo
from tests.conftest import DEFAULT_NOW
from tests.utils import factories as f

GROUP_CHAT = -100321
# Deadlines from DEFAULT_NOW (Sunday 09:00 in Shanghai): late, due within the offsets, a
# few days out, beyond the walk below, at odd minutes and in quiet hours.
DUE_IN = [timedelta(days=-9), timedelta(days=-2, hours=-1), timedelta(hours=-3),
          timedelta(hours=1), timedelta(hours=23, minutes=17), timedelta(days=2, hours=5),
          timedelta(days=3, minutes=30), timedelta(days=3, hours=14), timedelta(days=4),
          timedelta(days=5, hours=13, minutes=59), timedelta(days=6, hours=-8),
          timedelta(days=30)]


async def _bulk_load(services: Services) -> dict[str, int]:
    async with services.session() as s:
        c = await f.campaign(s)
        c.leaders_chat_id = GROUP_CHAT
        edu = await f.unit(s, "县教育局")
        chief = await f.person(s, "局长", unit=edu, telegram_id=7001)
        edu.leader_id = chief.id
        owners = [await f.person(s, f"责任人{i}", unit=edu, telegram_id=7100 + i)
                  for i in range(3)]
        ids: dict[str, int] = {}
        for n, due_in in enumerate(DUE_IN):
            task = await f.task(s, c, unit=edu, owner=owners[n % 3], title=f"整改{n}",
                                due_at=DEFAULT_NOW + due_in)
            task.created_at = DEFAULT_NOW - timedelta(days=40)
            ids[f"due{n}"] = task.id
        # A far-off task its owner snoozed: looked at now, as a snooze may be due sooner.
        snoozed = await f.task(s, c, unit=edu, owner=owners[0], title="已推迟",
                               due_at=DEFAULT_NOW + timedelta(days=20))
        await repo.set_snooze(session=s, task_id=snoozed.id, person_id=owners[0].id,
                              set_at=DEFAULT_NOW - timedelta(hours=2),
                              until=DEFAULT_NOW + timedelta(hours=3))
        ids["snoozed"] = snoozed.id
        return ids


async def _cursors(services: Services) -> dict[int, datetime | None]:
    async with services.session() as s:
        rows = (await s.execute(select(ReminderCursor.subject_id, ReminderCursor.next_at)
                                .where(ReminderCursor.subject == repo.TASK))).all()
    return {subject_id: next_at for subject_id, next_at in rows}


async def _walk(services: Services, clock: FrozenClock) -> set[tuple[str, int, str]]:
    """Sweep every 20 minutes for seven days; what was queued."""
    for _ in range(7 * 72):
        await services.reminders.sweep()
        clock.advance(timedelta(minutes=20))
    async with services.session() as s:
        rows = (await s.execute(select(OutboxMessage.key, OutboxMessage.chat_id,
                                       OutboxMessage.text))).all()
    return {(k, c, t) for k, c, t in rows}


async def test_new_cursors_wait_for_the_first_reminder_and_miss_nothing(
    services: Services, clock: FrozenClock
) -> None:
    ids = await _bulk_load(services)
    reminders = services.reminders
    await reminders.reconcile()
    cursors = await _cursors(services)
    now = clock.now()
    # Late, due today or within three days: now. Further: three days before the deadline
    # (the default offsets are 3d, 1d, 2h), at the deadline's own wall-clock time.
    assert cursors[ids["due0"]] == cursors[ids["due5"]] == now
    assert cursors[ids["due6"]] == DEFAULT_NOW + timedelta(minutes=30)
    assert cursors[ids["due11"]] == DEFAULT_NOW + timedelta(days=27)
    assert cursors[ids["snoozed"]] == now
    # The first sweep derives only the tasks whose time may have come (and the people's
    # and the campaign's cursors, which are made at now as before).
    before = reminders.stats["cursors"]
    await reminders.sweep()
    looked = reminders.stats["cursors"] - before
    assert looked == sum(at is not None and at <= now for at in cursors.values()) + 4 + 1

    # The same walk from the same start, with every task looked at at once (as every
    # cursor used to be made): the same messages, to the same chats, with the same texts.
    placed = await _walk(services, clock)
    clock.set(DEFAULT_NOW)
    async with services.session() as s:
        await s.execute(delete(OutboxMessage))
        await s.execute(delete(ReminderCursor))
    await reminders.reconcile()
    async with services.session() as s:
        await repo.touch(session=s, subject=repo.TASK, ids=list(ids.values()), now=clock.now())
    touched = await _walk(services, clock)
    assert placed == touched
    # The walk met every kind of task reminder.
    kinds = {key.split(":")[2] for key, _, _ in placed if key.startswith("rem:")}
    assert {"before", "due", "overdue", "escalate", "snooze"} <= kinds


async def test_a_cursor_made_meanwhile_by_a_change_is_kept(
    services: Services, clock: FrozenClock
) -> None:
    ids = await _bulk_load(services)
    far = ids["due11"]
    async with services.session() as s:
        await repo.touch(session=s, subject=repo.TASK, ids=[far], now=clock.now())
        campaign = (await s.get(Task, far)).campaign_id  # type: ignore[union-attr]
        await repo.place_new_tasks(session=s, campaign_id=campaign, after=0, upto=far,
                                   lead=timedelta(days=3), now=clock.now())
    cursors = await _cursors(services)
    assert cursors[far] == clock.now()  # the touch's, not three days before the deadline
    assert cursors[ids["due6"]] == DEFAULT_NOW + timedelta(minutes=30)  # the others made


async def test_a_task_changed_after_its_cursor_was_made_is_looked_at_now(
    services: Services, clock: FrozenClock
) -> None:
    ids = await _bulk_load(services)
    await services.reminders.reconcile()
    far = ids["due11"]
    clock.advance(timedelta(minutes=5))
    async with services.session() as s:
        task = await s.get(Task, far)
        assert task is not None
        task.due_at = clock.now() + timedelta(hours=3)
        task.updated_at = clock.now()  # an import's write, without an event
    await services.reminders.reconcile()
    assert (await _cursors(services))[far] == clock.now()


async def test_a_sweep_that_fills_the_outbox_keeps_its_statistics_true(
    services: Services, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An outbox analysed while empty (autovacuum, a restore), then a first start that
    # queues hundreds of messages into it: the sweep has it analysed again, so the
    # pending reminders of each batch are found through the task index, not by reading
    # every pending row.
    monkeypatch.setattr(service, "REFRESH_AFTER", 100)
    ids = await _bulk_load(services)
    async with services.session() as s:
        first = await s.get(Task, ids["due0"])
        assert first is not None
        await s.execute(insert(Task), [
            {"campaign_id": first.campaign_id, "key": f"late{n}", "title": f"逾期{n}",
             "description": "", "unit_id": first.unit_id, "owner_id": first.owner_id,
             "due_at": DEFAULT_NOW - timedelta(days=5), "priority": 2, "status": "todo",
             "progress": 0, "evidence_required": 0, "created_at": DEFAULT_NOW,
             "updated_at": DEFAULT_NOW}
            for n in range(300)
        ])
    engine = services.db.engine
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE outbox"))
    await services.reminders.reconcile()
    queued = await services.reminders.sweep()
    assert queued > 900
    async with services.session() as s:
        rows = (await s.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
        compiled = repo.pending_statement([ids["due0"], ids["due1"]]).compile(
            dialect=engine.dialect, compile_kwargs={"literal_binds": True})
        explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        plan = " ".join(str(r) for r in (await s.execute(text(explain + str(compiled)))).all())
        if postgres:
            counted = (await s.execute(text(
                "SELECT reltuples FROM pg_class WHERE oid = 'outbox'::regclass"))).scalar_one()
            assert rows / 2 <= counted <= rows, (counted, rows)
    assert "ix_outbox_task_id_state" in plan and "ix_outbox_state_not_before" not in plan, plan


async def test_the_database_places_each_cursor_no_later_than_its_first_reminder(
    services: Services, clock: FrozenClock
) -> None:
    """In a zone whose clocks change, each new cursor is placed by the database at the
    deadline less the policy's lead: never after the first reminder (across the spring
    and the autumn change), at most the change earlier, a snoozed task's now."""
    new_york = ZoneInfo("America/New_York")
    deadlines = [datetime(2027, 3, 16, 9, 0, 0, 123456, tzinfo=new_york),   # after spring
                 datetime(2027, 11, 9, 17, 30, tzinfo=new_york),            # after autumn
                 datetime(2027, 6, 1, 12, 0, tzinfo=new_york)]
    async with services.session() as s:
        c = await f.campaign(s)
        c.timezone = "America/New_York"
        unit = await f.unit(s, "学校")
        owner = await f.person(s, "责任人", unit=unit, telegram_id=7201)
        tasks = [await f.task(s, c, unit=unit, owner=owner, due_at=due) for due in deadlines]
        snoozed = await f.task(s, c, unit=unit, owner=owner, due_at=deadlines[2])
        await repo.set_snooze(session=s, task_id=snoozed.id, person_id=owner.id,
                              set_at=clock.now(), until=clock.now() + timedelta(hours=3))
    await services.reminders.reconcile()
    cursors = await _cursors(services)
    policy = services.reminders.policy_for(None)
    for task, due in zip(tasks, deadlines, strict=True):
        at = cursors[task.id]
        assert at is not None
        exact = first_look(due, new_york, policy)
        assert exact - timedelta(hours=2, milliseconds=1) <= at <= exact
        # What the lead says, to the millisecond SQLite keeps of it.
        expected = due.astimezone(UTC) - lead(policy, new_york, clock.now().year)
        assert abs(at - expected) < timedelta(milliseconds=1)
    assert cursors[snoozed.id] == clock.now()
