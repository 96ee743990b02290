"""Issue 11, row 11: ids and numbers people type are ASCII digits within range; anything
else is a clear refusal in the person's language, never an internal error reported to the
office."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import AppConfig
from db.models import Role, TaskEvent
from tests.conftest import DEFAULT_NOW, UNLIMITED_FLOOD, BotHarness
from tests.utils import factories as f

OWNER, ADMIN = 5580001, 5580002


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> AppConfig:
    # Admins configured, so an internal error would show up as a report to them.
    return AppConfig.model_validate({
        "database": {"url": database_url},
        "storage": {"data_dir": str(tmp_path / "data")},
        "telegram": {"admin_ids": [ADMIN]},
        "flood": UNLIMITED_FLOOD,
    })


async def _seed(h: BotHarness) -> int:
    async with h.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        await f.person(s, "王主任", role=Role.ADMIN, telegram_id=ADMIN)
        owner = await f.person(s, "张三", unit=edu, telegram_id=OWNER)
        task = await f.task(s, c, unit=edu, owner=owner, title="完善图书室台账",
                            due_at=DEFAULT_NOW + timedelta(days=5))
        return task.id


def _to_admin(h: BotHarness) -> list[str]:
    return [c.text for c in h.request.sent("sendMessage") if c.chat_id == ADMIN]


@pytest.mark.parametrize(
    ("who", "command", "expected"),
    [
        (OWNER, "/task ²", "不是有效的任务编号"),
        (OWNER, "/task ٣", "不是有效的任务编号"),
        (OWNER, "/task 99999999999999999999999", "不是有效的任务编号"),
        (OWNER, "/task 2147483648", "不是有效的任务编号"),
        (OWNER, "/progress 1 ²", "进度应为 0 到 100 之间的整数"),
        (OWNER, "/progress ² 50", "不是有效的任务编号"),
        (OWNER, "/progress 1 100000000000000000000", "进度应为 0 到 100 之间的整数"),
        (OWNER, "/done 99999999999999999999999", "不是有效的任务编号"),
        (OWNER, "/evidence ²", "不是有效的任务编号"),
        (OWNER, "/submit 99999999999999999999999", "不是有效的任务编号"),
        (ADMIN, "/cancel ²", "不是有效的任务编号"),
        (ADMIN, "/deadline 1 0001-01-01", "超出范围"),
        (ADMIN, "/reassign 1 99999999999999999999999", "找不到人员"),
        (ADMIN, "/invite ²", "找不到人员"),
        (ADMIN, "/undelivered retry ²", "不是有效的任务编号"),
    ],
)
async def test_odd_numbers_are_refused_clearly(
    harness: BotHarness, who: int, command: str, expected: str
) -> None:
    await _seed(harness)
    await harness.process(harness.updates.text(harness.updates.user(who), command))
    replies = [c.text for c in harness.request.sent("sendMessage") if c.chat_id == who]
    assert replies and expected in replies[-1], replies
    assert "内部错误" not in replies[-1]
    if who != ADMIN:
        assert _to_admin(harness) == []


async def test_a_refused_value_is_quoted_short(harness: BotHarness) -> None:
    await _seed(harness)
    await harness.process(harness.updates.text(harness.updates.user(OWNER), "/task " + "x" * 3000))
    text = harness.request.last_text()
    assert "不是有效的任务编号" in text and len(text) < 200


async def test_full_width_digits_from_a_chinese_keyboard_are_read(harness: BotHarness) -> None:
    task_id = await _seed(harness)
    wide = str(task_id).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    await harness.process(
        harness.updates.text(harness.updates.user(OWNER), f"/progress {wide} ５０％"))
    assert f"#{task_id}" in harness.request.texts()[-2]
    async with harness.services.session() as s:
        events = (await s.execute(select(TaskEvent))).scalars().all()
    assert ("progress", "50") in [(e.kind, e.new_value) for e in events]


async def test_an_oversized_card_reference_is_not_a_task(harness: BotHarness) -> None:
    await _seed(harness)
    await harness.process(harness.updates.reply(
        harness.updates.user(OWNER), "备注", to_text="#99999999999 任务卡"))
    assert "内部错误" not in " ".join(harness.request.texts())
    assert _to_admin(harness) == []
