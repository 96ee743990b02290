"""A chat's backlog of one kind sent as lists: every row once, its guard asked, the
message inside Telegram's limit, and a refused list retried whole."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import ExtBot

from bot.config import DeliveryConfig
from bot.core.clock import FrozenClock
from bot.core.keyboard import Button, Keyboard
from bot.core.textfit import MAX_TEXT, visible_length
from bot.delivery import merge
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.outbox import ListItem
from bot.reminders.service import Reminders
from bot.services import Services
from db.models import OutboxMessage, OutboxState, Role, TaskStatus
from db.repositories import delivery as outbox_repo
from tests.conftest import DEFAULT_NOW
from tests.db.test_reminder_outbox import FlakyRequest
from tests.utils import factories as f
from tests.utils.delivery import dispatcher
from tests.utils.telegram import RecordingRequest

GROUP = -100777
FAST = DeliveryConfig(
    global_per_second=1000, private_per_second=1000, group_per_minute=1000, poll_seconds=0.05,
    max_attempts=3,
)


class Lines:
    """A merger over the rows' own texts; `width` pads each line; a row with a button
    brings a button of its own to the list."""

    def __init__(self, width: int = 0) -> None:
        self.width = width

    async def items(
        self, session: AsyncSession, rows: Sequence[OutboxMessage], now: datetime
    ) -> tuple[Callable[[int], str], list[ListItem]]:
        def header(count: int) -> str:
            return f"<b>共 {count} 条</b>"

        return header, [
            ListItem(f"• {r.text}{'·' * self.width}",
                     Button(r.text, f"open:{r.text}") if r.reply_markup else None)
            for r in rows
        ]


async def _bot(request: RecordingRequest) -> ExtBot[None]:
    bot: ExtBot[None] = ExtBot("123:TEST", request=request, get_updates_request=request)
    await bot.initialize()
    return bot


async def _queue(services: Services, count: int, *, chat: int = GROUP, kind: str = "test.list",
                 markup: Keyboard | None = None, prefix: str = "m") -> None:
    async with services.session() as s:
        for i in range(count):
            await outbox_repo.enqueue(
                session=s, key=f"{prefix}{i}", chat_id=chat, text=f"{prefix}{i}", kind=kind,
                now=services.clock.now(), reply_markup=markup.to_json() if markup else None)


async def _run(services: Services, delivery: Dispatcher, request: RecordingRequest) -> None:
    await delivery.start(await _bot(request))
    assert await delivery.wait_idle(60)
    await delivery.stop()


async def _rows(services: Services) -> dict[str, OutboxMessage]:
    async with services.session() as s:
        return {r.key: r for r in (await s.execute(select(OutboxMessage))).scalars()}


async def test_a_backlog_goes_as_one_list_and_each_row_is_settled_by_it(
    services: Services,
) -> None:
    await _queue(services, 25)
    button = Keyboard.of([[Button("打开", "task:open:1")]])
    await _queue(services, 12, markup=button, prefix="b")  # their buttons: the list's
    await _queue(services, 2, kind="test.other", prefix="o")  # another kind: on its own
    delivery = dispatcher(services, worker="w", config=FAST)
    delivery.outbox.add_merger("test.list", Lines())

    async def not_m7(session: AsyncSession, row: OutboxMessage, now: datetime) -> bool:
        return row.key != "m7"

    delivery.outbox.add_guard("test.list", not_m7)
    request = RecordingRequest()
    await _run(services, delivery, request)

    sent = request.sent("sendMessage")
    [listed_call] = [c for c in sent if c.text.startswith("<b>共")]
    lines = [f"• m{i}" for i in range(25) if i != 7] + [f"• b{i}" for i in range(12)]
    assert listed_call.text == "<b>共 36 条</b>\n" + "\n".join(lines)
    # The items' buttons, the first ten, one a row.
    keyboard = listed_call.params["reply_markup"]
    keyboard = keyboard.to_dict() if hasattr(keyboard, "to_dict") else keyboard
    assert [[b["text"] for b in row] for row in keyboard["inline_keyboard"]] == [
        [f"b{i}"] for i in range(10)]
    assert sorted(c.text for c in sent if c is not listed_call) == ["o0", "o1"]
    rows = await _rows(services)
    assert rows["m7"].state is OutboxState.CANCELLED
    listed = [rows[f"m{i}"] for i in range(25) if i != 7] + [rows[f"b{i}"] for i in range(12)]
    assert {r.state for r in listed} == {OutboxState.SENT}
    assert len({r.message_id for r in listed}) == 1 and listed[0].message_id is not None
    assert delivery.stats["lists"] == 1 and delivery.stats["sent"] == 38


async def test_a_long_backlog_is_cut_at_the_limit_and_nothing_is_sent_twice(
    services: Services,
) -> None:
    await _queue(services, 130)
    delivery = dispatcher(services, worker="w", config=FAST)
    delivery.outbox.add_merger("test.list", Lines(width=300))
    request = RecordingRequest()
    await _run(services, delivery, request)

    texts = [c.text for c in request.sent("sendMessage")]
    assert all(visible_length(t) <= MAX_TEXT for t in texts)
    # 300-character lines: thirteen fit under the header, and the backlog takes ten lists.
    assert len(texts) == 10 and all(t.count("\n") == 13 for t in texts)
    listed = [line.split("·")[0][2:] for t in texts for line in t.split("\n")[1:]]
    assert sorted(listed) == sorted(f"m{i}" for i in range(130))
    rows = await _rows(services)
    assert {r.state for r in rows.values()} == {OutboxState.SENT}
    assert len({r.message_id for r in rows.values()}) == 10


async def test_a_refused_list_is_sent_again_whole(services: Services) -> None:
    await _queue(services, 12)
    request = FlakyRequest(flood_once={GROUP}, fail_every=0)
    delivery = dispatcher(services, worker="w", config=FAST)
    delivery.outbox.add_merger("test.list", Lines())
    await _run(services, delivery, request)

    accepted = [text for _, chat, text in request.accepted if chat == GROUP]
    assert accepted == ["<b>共 12 条</b>\n" + "\n".join(f"• m{i}" for i in range(12))]
    rows = await _rows(services)
    assert {r.state for r in rows.values()} == {OutboxState.SENT}
    assert delivery.stats["flood_waits"] == 1


def test_fitting_keeps_the_header_inside_the_limit() -> None:
    def header(count: int) -> str:
        return "头" * (10 + count)  # the header grows with the count, as "以下 N 项" does

    lines = ["行" * 99] * 50  # 100 characters with the line break
    count = merge.fitting(header, lines, limit=1000)
    assert count == 9  # 9 × 100 + 19 ≤ 1000 < 10 × 100 + 20
    text, keyboard = merge.compose(header, [ListItem(line) for line in lines[:count]])
    assert visible_length(text) <= 1000 and keyboard is None
    assert merge.fitting(header, ["x" * 5000]) == 1  # alone, its row goes as its own message


async def test_the_leading_groups_chat_and_the_leader_get_the_escalations_as_one_list(
    services: Services, clock: FrozenClock
) -> None:
    """Twenty tasks three days late: their owner, the unit's leader and the leading
    group's chat hear of them once each, a line per task worded from the task."""
    async with services.session() as s:
        c = await f.campaign(s)
        c.leaders_chat_id = GROUP
        school = await f.unit(s, "城关小学")
        chief = await f.person(s, "校长", unit=school, telegram_id=8101)
        school.leader_id = chief.id
        await f.person(s, "办公室", role=Role.ADMIN, telegram_id=8103)
        owner = await f.person(s, "李四", unit=school, telegram_id=8102)
        for i in range(20):
            task = await f.task(s, c, unit=school, owner=owner, title=f"整改项目{i}",
                                due_at=DEFAULT_NOW - timedelta(days=3, hours=1))
            task.created_at = DEFAULT_NOW - timedelta(days=10)
    reminders: Reminders = services.reminders
    await reminders.reconcile()
    await reminders.sweep()
    request = RecordingRequest()
    # The bot's own outbox (its guards and the escalations' lists), without the pauses.
    delivery = Dispatcher(db=services.db, outbox=services.delivery.outbox, clock=clock,
                          config=FAST, texts=services.texts)
    await _run(services, delivery, request)

    group = [c.text for c in request.sent("sendMessage") if c.chat_id == GROUP]
    escalations = [t for t in group if t.startswith("⚠️")]
    assert len(escalations) == 1 and len(group) == 2  # and the leaders' daily digest
    header, *lines = escalations[0].split("\n")
    assert header == "⚠️ <b>督办提醒</b>：以下 20 项任务已逾期："
    assert sorted(lines) == sorted(
        f"• 城关小学 · 李四：#{t} 整改项目{i}，逾期 3 天（截止 2026-11-19 08:00，进度 0%）"
        for i, t in enumerate(range(1, 21)))
    # The unit's leader too, in one list, with a button to open each of the first ten.
    [leader] = [c for c in request.sent("sendMessage") if c.chat_id == 8101]
    assert leader.text.split("\n")[0] == header and len(leader.text.split("\n")) == 21
    keyboard = leader.params["reply_markup"]
    keyboard = keyboard.to_dict() if hasattr(keyboard, "to_dict") else keyboard
    assert [row[0]["callback_data"] for row in keyboard["inline_keyboard"]] == [
        f"task:open:{t}" for t in range(1, 11)]
    # The owner: one list of the twenty reminders (and the daily digest), buttons to open
    # the first ten tasks, whose cards have "done" and "progress".
    owner_told = [c for c in request.sent("sendMessage") if c.chat_id == 8102]
    [told] = [c for c in owner_told if c.text.startswith("⏰")]
    assert len(owner_told) == 2
    header, *lines = told.text.split("\n")
    assert header == "⏰ <b>任务提醒</b>：您有 20 项任务需要办理（点下方任务可标记完成或报进度）："
    assert sorted(lines) == sorted(
        f"• #{t} 整改项目{i}：已逾期 3 天（截止 2026-11-19 08:00，进度 0%）"
        for i, t in enumerate(range(1, 21)))
    keyboard = told.params["reply_markup"]
    keyboard = keyboard.to_dict() if hasattr(keyboard, "to_dict") else keyboard
    assert [row[0]["callback_data"] for row in keyboard["inline_keyboard"]] == [
        f"task:open:{t}" for t in range(1, 11)]
    rows = await _rows(services)
    assert {r.state for r in rows.values()} == {OutboxState.SENT}
    clock.advance(timedelta(days=1))
    await reminders.sweep()  # once per deadline: nothing more for the group
    async with services.session() as s:
        queued = (await s.execute(select(OutboxMessage).where(
            OutboxMessage.chat_id == GROUP, OutboxMessage.state == OutboxState.PENDING,
        ))).scalars().all()
    assert [r.kind for r in queued] == ["leaders_digest"]


async def test_an_owners_reminders_due_together_go_as_one_list_and_one_alone_as_itself(
    services: Services, clock: FrozenClock
) -> None:
    """Reminders due for one owner at the same time go as one list, each line worded from
    its task as it stands when the list is sent (ahead, or days late); a task finished in
    between is left out; an owner with one reminder gets it with its own four buttons."""
    async with services.session() as s:
        c = await f.campaign(s)
        school = await f.unit(s, "城关小学")
        owner = await f.person(s, "李四", unit=school, telegram_id=8202)
        other = await f.person(s, "王五", unit=school, telegram_id=8203)
        ahead = await f.task(s, c, unit=school, owner=owner, title="校舍安全台账",
                             due_at=DEFAULT_NOW + timedelta(days=3))
        late = await f.task(s, c, unit=school, owner=owner, title="控辍保学名册",
                            due_at=DEFAULT_NOW - timedelta(days=2))
        finished = await f.task(s, c, unit=school, owner=owner, title="功能室台账",
                                due_at=DEFAULT_NOW - timedelta(days=1))
        alone = await f.task(s, c, unit=school, owner=other, title="图书目录",
                             due_at=DEFAULT_NOW - timedelta(days=1))
        for task in (ahead, late, finished, alone):
            task.created_at = DEFAULT_NOW - timedelta(days=10)
    reminders: Reminders = services.reminders
    await reminders.reconcile()
    await reminders.sweep()
    async with services.session() as s:
        queued = (await s.execute(select(OutboxMessage.task_id).where(
            OutboxMessage.kind == "reminder.owner"))).scalars().all()
        assert sorted(t or 0 for t in queued) == sorted([ahead.id, late.id, finished.id,
                                                         alone.id])
        done = await s.get(type(finished), finished.id)
        assert done is not None
        done.status = TaskStatus.DONE
    request = RecordingRequest()
    delivery = Dispatcher(db=services.db, outbox=services.delivery.outbox, clock=clock,
                          config=FAST, texts=services.texts)
    await _run(services, delivery, request)

    [told] = [c for c in request.sent("sendMessage")
              if c.chat_id == 8202 and c.text.startswith("⏰")]
    header, *lines = told.text.split("\n")
    assert header == "⏰ <b>任务提醒</b>：您有 2 项任务需要办理（点下方任务可标记完成或报进度）："
    assert sorted(lines) == sorted([
        f"• #{ahead.id} 校舍安全台账：还剩 3 天（截止 2026-11-25 09:00，进度 0%）",
        f"• #{late.id} 控辍保学名册：已逾期 2 天（截止 2026-11-20 09:00，进度 0%）",
    ])
    keyboard = told.params["reply_markup"]
    keyboard = keyboard.to_dict() if hasattr(keyboard, "to_dict") else keyboard
    assert sorted(row[0]["callback_data"] for row in keyboard["inline_keyboard"]) == sorted(
        [f"task:open:{ahead.id}", f"task:open:{late.id}"])
    # Alone, a reminder is itself: its text and its own buttons.
    [single] = [c for c in request.sent("sendMessage")
                if c.chat_id == 8203 and not c.text.startswith("☀️")]
    assert single.text.startswith("🔴 <b>任务已逾期 1 天</b>")
    keyboard = single.params["reply_markup"]
    keyboard = keyboard.to_dict() if hasattr(keyboard, "to_dict") else keyboard
    assert [b["callback_data"] for row in keyboard["inline_keyboard"] for b in row] == [
        f"task:done:{alone.id}", f"task:prog:{alone.id}", f"rem:snz:{alone.id}:60",
        f"rem:morn:{alone.id}"]
    rows = await _rows(services)
    by_task = {r.task_id: r for r in rows.values() if r.kind == "reminder.owner"}
    assert by_task[finished.id].state == OutboxState.CANCELLED
    assert by_task[ahead.id].message_id == by_task[late.id].message_id is not None
