"""The buttons on a reminder and /settings, through the real Application."""

from __future__ import annotations

import json
from datetime import time, timedelta

from sqlalchemy import select

from bot.core import callbacks
from bot.reminders.service import Reminders
from bot.reminders.views import rem_cb
from db.models import OutboxMessage, Person, ReminderSnooze, Role, Task, TaskStatus
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f

ZHANG = 5551001


async def _seed(h: BotHarness) -> tuple[int, int]:
    async with h.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        zhang = await f.person(s, "张三", unit=edu, telegram_id=ZHANG)
        task = await f.task(s, c, unit=edu, owner=zhang, title="完善控辍保学台账",
                            due_at=DEFAULT_NOW + timedelta(hours=1))
        return zhang.id, task.id


async def test_reminder_buttons_snooze_and_done(harness: BotHarness) -> None:
    person_id, task_id = await _seed(harness)
    reminders = harness.services.reminders
    assert isinstance(reminders, Reminders)
    await reminders.reconcile()
    await reminders.sweep()
    async with harness.services.session() as s:
        row = (await s.execute(select(OutboxMessage).where(OutboxMessage.task_id == task_id))
               ).scalar_one()
    assert row.chat_id == ZHANG
    keyboard = json.loads(row.reply_markup or "")["inline_keyboard"]
    done, prog, snooze_hour, morning = [b["callback_data"] for line in keyboard for b in line]
    # Done and progress are the task card's own buttons; the snoozes are the reminder's.
    assert (done, prog) == (f"task:done:{task_id}", f"task:prog:{task_id}")
    assert (snooze_hour, morning) == (f"rem:snz:{task_id}:60", f"rem:morn:{task_id}")

    user = harness.updates.user(ZHANG)
    await harness.process(harness.updates.callback(user, morning))
    answer = harness.request.sent("answerCallbackQuery")[-1]
    assert "11-23 08:30" in str(answer.params.get("text"))
    async with harness.services.session() as s:
        snooze = await s.get(ReminderSnooze, (task_id, person_id))
        assert snooze is not None
        assert snooze.until == DEFAULT_NOW.replace(day=23, hour=8, minute=30)

    await harness.process(harness.updates.callback(user, prog))
    markup = harness.request.sent("editMessageReplyMarkup")[-1]
    assert f"task:setp:{task_id}:50" in str(markup.params.get("reply_markup"))

    await harness.process(harness.updates.callback(user, done))
    async with harness.services.session() as s:
        task = await s.get(Task, task_id)
        assert task is not None and task.status is TaskStatus.DONE
    assert "已标记完成" in str(harness.request.sent("answerCallbackQuery")[-1].params.get("text"))


async def test_someone_else_cannot_press_my_reminder(harness: BotHarness) -> None:
    _, task_id = await _seed(harness)
    async with harness.services.session() as s:
        await f.person(s, "李四", telegram_id=ZHANG + 1, role=Role.RESPONSIBLE)
    li = harness.updates.user(ZHANG + 1)
    await harness.process(harness.updates.callback(li, callbacks.task("done", task_id)))
    await harness.process(harness.updates.callback(li, rem_cb("snz", task_id, 60)))
    async with harness.services.session() as s:
        task = await s.get(Task, task_id)
        assert task is not None and task.status is TaskStatus.TODO


async def test_settings_quiet_hours_digest_and_language(harness: BotHarness) -> None:
    person_id, _ = await _seed(harness)
    user = harness.updates.user(ZHANG)
    await harness.process(harness.updates.text(user, "/settings"))
    assert "22:00–07:30（默认）" in harness.request.last_text()
    await harness.process(harness.updates.text(user, "/settings quiet 23:00-06:30"))
    await harness.process(harness.updates.text(user, "/settings digest 7:45"))
    assert "23:00–06:30" in harness.request.last_text()
    assert "07:45" in harness.request.last_text()
    await harness.process(harness.updates.text(user, "/settings digest 25:99"))
    assert "时间格式不对" in harness.request.last_text()
    await harness.process(harness.updates.callback(user, "set:language:en"))
    assert "Reminder settings" in harness.request.last_text()
    async with harness.services.session() as s:
        person = await s.get(Person, person_id)
        assert person is not None
        assert (person.quiet_start, person.quiet_end) == (time(23, 0), time(6, 30))
        assert person.digest_time == time(7, 45) and person.language == "en"
