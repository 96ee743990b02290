"""A hostile spreadsheet is refused quickly and off the event loop: while the office's 1.6 KB
"dimension bomb" is read, someone else's /tasks is answered at once (issue 11, row 4)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import FrameType

from db.models import Role
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f
from tests.utils.xlsx_files import dimension_bomb

ADMIN, OWNER = 5554001, 5554002
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Before the fix the file held the event loop for minutes; the test stops it there.
GIVE_UP_SECONDS = 30


async def _seed(h: BotHarness) -> None:
    async with h.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        await f.person(s, "周敏", role=Role.ADMIN, telegram_id=ADMIN)
        owner = await f.person(s, "王芳", unit=edu, telegram_id=OWNER)
        await f.task(s, c, unit=edu, owner=owner, title="核对学籍系统数据",
                     due_at=DEFAULT_NOW + timedelta(days=3))


@contextmanager
def _give_up_after(seconds: int) -> Iterator[None]:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"the event loop was held for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


async def _timed(work: Awaitable[None]) -> float:
    started = time.perf_counter()
    await work
    return time.perf_counter() - started


async def test_others_are_answered_while_a_dimension_bomb_is_refused(harness: BotHarness) -> None:
    await _seed(harness)
    u = harness.updates
    owner, admin = u.user(OWNER), u.user(ADMIN)
    # What /tasks takes here on its own, as the yardstick for "at once".
    alone = await _timed(harness.process(u.text(owner, "/tasks")))
    harness.request.files["bomb"] = dimension_bomb(far_value=True)
    harness.request.clear()

    with _give_up_after(GIVE_UP_SECONDS):
        sent = time.perf_counter()
        bomb = asyncio.create_task(_timed(harness.process(
            u.document(admin, "bomb", "任务分解表.xlsx", XLSX, file_size=1706))))
        await asyncio.sleep(0.01)  # the file is being read when /tasks arrives
        await harness.process(u.text(owner, "/tasks"))
        tasks_latency = time.perf_counter() - sent
        bomb_latency = await bomb

    assert tasks_latency < max(1.0, 10 * alone), (tasks_latency, alone)
    assert bomb_latency < 5.0
    answers = {call.chat_id: call.text for call in harness.request.sent("sendMessage")}
    assert "核对学籍系统数据" in answers[OWNER]
    assert "有内容的列超过 200 列" in answers[ADMIN]


async def test_a_lying_dimension_alone_reads_as_the_table_it_is(harness: BotHarness) -> None:
    await _seed(harness)
    harness.request.files["bomb"] = dimension_bomb(far_value=False)
    with _give_up_after(GIVE_UP_SECONDS):
        await harness.process(harness.updates.document(
            harness.updates.user(ADMIN), "bomb", "任务分解表.xlsx", XLSX, file_size=1692))
    preview = harness.request.last_text()
    assert "共 1 行" in preview and "新增任务 1 项" in preview
