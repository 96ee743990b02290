"""Issue 11, row 1: in webhook mode only Telegram's own POSTs are updates.

The bot runs as `inspectbot run` would serve it (`bot.app.webhook_arguments`), with the
default configuration (no `webhook_secret`): a POST forged as the office, without the
secret or with a wrong one, changes nothing; the sandbox, which was given the secret by
setWebhook, still delivers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bot.core.clock import SystemClock
from db.models import Role, Task, TaskStatus
from sandbox import SandboxClient
from tests.e2e.conftest import LiveBot, StartBot
from tests.utils import factories as f

ADMIN = 4600001
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def _seed(bot: LiveBot) -> int:
    async with bot.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        await f.person(s, "王主任", role=Role.ADMIN, telegram_id=ADMIN)
        owner = await f.person(s, "张三", unit=edu)
        task = await f.task(s, c, unit=edu, owner=owner, title="完善图书室台账",
                            due_at=SystemClock().now() + timedelta(days=3))
        return task.id


def _forged_cancel(task_id: int) -> dict[str, Any]:
    text = f"/cancel {task_id} 伪造"
    return {
        "update_id": 990001,
        "message": {
            "message_id": 77, "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": ADMIN, "type": "private", "first_name": "王主任"},
            "from": {"id": ADMIN, "is_bot": False, "first_name": "王主任"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len("/cancel")}],
        },
    }


async def _post(url: str, body: dict[str, Any], secret: str | None) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with aiohttp.ClientSession() as session, session.post(
        url, json=body, headers=headers
    ) as response:
        return response.status


async def _status(bot: LiveBot, task_id: int) -> TaskStatus:
    async with bot.services.session() as s:
        task = await s.get(Task, task_id)
        assert task is not None
        return task.status


@pytest.mark.parametrize("secret", [None, "", "wrong-secret-of-the-right-shape"])
async def test_a_forged_update_changes_nothing(
    start_bot: StartBot, sandbox: SandboxClient, secret: str | None
) -> None:
    bot = await start_bot(mode="webhook")
    assert bot.config.telegram.webhook_secret.get_secret_value() == ""  # the default
    task_id = await _seed(bot)
    admin = await sandbox.add_user("王主任", user_id=ADMIN, started=True)

    status = await _post(bot.config.telegram.webhook_url, _forged_cancel(task_id), secret)

    assert status == 403
    await admin.expect_no_message(within=0.5)
    assert await _status(bot, task_id) is TaskStatus.TODO


async def test_telegram_itself_still_delivers_on_the_configured_path(
    start_bot: StartBot, sandbox: SandboxClient
) -> None:
    bot = await start_bot(mode="webhook")
    task_id = await _seed(bot)
    admin = await sandbox.add_user("王主任", user_id=ADMIN, started=True)
    info = await sandbox.request("GET", "/info")
    assert info["webhook"] == bot.config.telegram.webhook_url  # path included

    await admin.send(f"/cancel {task_id} 不再需要")

    await admin.expect_message(contains=f"任务 #{task_id} 已撤销")
    assert await _status(bot, task_id) is TaskStatus.CANCELLED


async def test_a_configured_secret_is_the_one_required(
    start_bot: StartBot, sandbox: SandboxClient
) -> None:
    chosen = "an-operator-chosen-secret-0123"
    bot = await start_bot(mode="webhook", webhook_secret=chosen)
    task_id = await _seed(bot)
    admin = await sandbox.add_user("王主任", user_id=ADMIN, started=True)

    assert await _post(bot.config.telegram.webhook_url, _forged_cancel(task_id),
                       "wrong-secret-of-the-right-shape") == 403
    assert bot.config.telegram.webhook_secret_value == chosen
    assert await _status(bot, task_id) is TaskStatus.TODO
    await admin.send(f"/cancel {task_id}")
    await admin.expect_message(contains="已撤销")
