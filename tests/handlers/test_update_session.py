"""One update, one database connection (issue 14): the gate's reads and the handler's unit
of work share the update's session, and no connection waits on Telegram meanwhile."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, select

from db.models import TaskEvent
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f

ZHANG = 5551401


async def _seed(h: BotHarness) -> int:
    async with h.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        zhang = await f.person(s, "张三", unit=edu, telegram_id=ZHANG)
        task = await f.task(s, c, unit=edu, owner=zhang, title="完善控辍保学台账",
                            due_at=DEFAULT_NOW + timedelta(days=3))
        return task.id


def _count_checkouts(h: BotHarness) -> list[int]:
    checkouts: list[int] = []
    pool = h.services.db.engine.sync_engine.pool

    def checked_out(*_args: Any) -> None:
        checkouts.append(1)

    event.listen(pool, "checkout", checked_out)
    return checkouts


async def test_the_gate_and_the_handler_take_one_connection(harness: BotHarness) -> None:
    await _seed(harness)
    user = harness.updates.user(ZHANG)
    checkouts = _count_checkouts(harness)
    await harness.process(harness.updates.text(user, "/tasks"))
    assert "完善控辍保学台账" in harness.request.last_text()
    assert len(checkouts) == 1


async def test_a_change_commits_on_the_shared_connection(harness: BotHarness) -> None:
    task_id = await _seed(harness)
    user = harness.updates.user(ZHANG)
    checkouts = _count_checkouts(harness)
    await harness.process(harness.updates.text(user, f"/note {task_id} 已核对台账"))
    # The gate and the note share one; the reminders' reaction to the change after the
    # commit takes its own.
    assert len(checkouts) <= 2
    async with harness.services.session() as s:
        notes = (await s.execute(select(TaskEvent.note).where(TaskEvent.kind == "note"))).all()
    assert [n for (n,) in notes] == ["已核对台账"]


async def test_no_connection_is_held_while_telegram_answers(harness: BotHarness) -> None:
    await _seed(harness)
    user = harness.updates.user(ZHANG)
    pool: Any = harness.services.db.engine.sync_engine.pool  # a QueuePool: checkedout()
    held: list[int] = []
    request: Any = harness.request
    answer = request.do_request

    async def watching(*args: Any, **kwargs: Any) -> Any:
        held.append(pool.checkedout())
        return await answer(*args, **kwargs)

    request.do_request = watching
    await harness.process(harness.updates.text(user, "/help"))
    await harness.process(harness.updates.text(user, "/tasks"))
    assert held and max(held) == 0
