"""Over real HTTP against the sandbox's flood control: a long album goes out in chunks of
ten, each waiting out the per-chat pace, and nobody else waits for it."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from bot.core.clock import SystemClock
from db.models import Role
from sandbox import SandboxClient
from sandbox.limits import RateLimitConfig
from tests.e2e.conftest import LiveBot
from tests.utils import factories as f
from tests.utils.evidence_files import jpeg

ZHANG, LI, WANG, OFFICE = 4401, 4402, 4403, 4409
PHOTOS = 25


async def _seed(bot: LiveBot) -> int:
    async with bot.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        zhang = await f.person(s, "张三", unit=edu, telegram_id=ZHANG)
        await f.person(s, "李四", unit=edu, telegram_id=LI)
        wang = await f.person(s, "王局长", unit=edu, telegram_id=WANG)
        await f.person(s, "迎检办", role=Role.ADMIN, telegram_id=OFFICE)
        edu.leader_id = wang.id
        task = await f.task(s, c, unit=edu, owner=zhang, title="校园安全设施照片",
                            due_at=SystemClock().now() + timedelta(days=5))
        return task.id


# Telegram's per-chat pace with the small burst the demo allows; two a second rather than
# one keeps the test short, and each chunk of ten still meets a 429 of about five seconds.
@pytest.mark.sandbox(rate_limits=RateLimitConfig(private_burst=3, private_per_second=2))
async def test_an_album_of_25_photos_goes_out_in_chunks_through_the_per_chat_limit(
    polling_bot: LiveBot, sandbox: SandboxClient
) -> None:
    task_id = await _seed(polling_bot)
    zhang, li, wang, office = [
        await sandbox.add_user(name, user_id=uid, started=True)
        for name, uid in (("张三", ZHANG), ("李四", LI), ("王局长", WANG), ("迎检办", OFFICE))
    ]
    photos = [jpeg(color=(n * 10, 255 - n * 10, 90), size=(64, 48)) for n in range(PHOTOS)]
    for start in range(0, PHOTOS, 10):
        chunk = photos[start:start + 10]
        await zhang.send_album(chunk, caption=f"#{task_id}")
        await zhang.expect_message(contains=f"收到 {len(chunk)} 份", timeout=15)
    await sandbox.reset_stats()

    await wang.send(f"/evidence {task_id}")
    await wang.expect_message(contains=f"共 {PHOTOS} 份", timeout=10)
    first = await wang.expect_messages(10, where=lambda m: bool(m.photo), timeout=15)

    # While the next chunk waits for the chat's pace, someone else is answered at once.
    asked = time.monotonic()
    await li.send("/tasks")
    await li.expect_message(contains="没有未完成的任务", timeout=10)
    other_waited = time.monotonic() - asked

    rest = await wang.expect_messages(PHOTOS - 10, where=lambda m: bool(m.photo), timeout=40)
    albums = {m.media_group_id for m in first + rest}
    assert len(first + rest) == PHOTOS and len(albums) == 3 and None not in albums
    stats = await sandbox.stats()
    assert stats["rate_limited_per_chat"].get(str(WANG), 0) >= 1  # the limit was met
    assert other_waited < 2.5, other_waited
    said = [m.text for m in await wang.messages(from_bot=True)]
    assert not any("内部错误" in text for text in said)
    assert not await office.messages(from_bot=True)  # no error report to the office
