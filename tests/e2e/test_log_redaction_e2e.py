"""Issue 11, row 14: the running bot at DEBUG (`-v`) logs updates, API calls and SQL, but
never a live invite code, a phone number or the token."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.cli import setup_logging
from bot.core.clock import SystemClock
from db.models import Invite, Person, Role
from sandbox import SandboxClient
from tests.e2e.conftest import StartBot
from tests.utils import factories as f

ADMIN, OWNER, NEWCOMER = 4700001, 4700002, 4700003
PHONE = "13800138000"


@pytest.fixture
def restore_logging(start_bot: StartBot, capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Set up after the bot and the capture, so undone before either is torn down."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level
              for name in ("httpx", "httpcore", "apscheduler", "alembic", "jieba",
                           "aiosqlite", "sqlalchemy.engine")}
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    for handler in handlers:
        handler.filters.clear()
    root.setLevel(level)
    for name, value in levels.items():
        logging.getLogger(name).setLevel(value)


@pytest.mark.usefixtures("restore_logging")
async def test_the_bot_at_debug_logs_no_code_phone_or_token(
    start_bot: StartBot, sandbox: SandboxClient, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = await start_bot(mode="polling")
    setup_logging(bot.config, verbose=True)  # what `inspectbot -v run` does
    async with bot.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        await f.person(s, "王主任", role=Role.ADMIN, telegram_id=ADMIN)
        owner = await f.person(s, "张三", unit=edu, telegram_id=OWNER)
        li = await f.person(s, "李四", unit=edu)
        li.phone = PHONE
        await f.person(s, "王五", unit=edu)
        task = await f.task(s, c, unit=edu, owner=owner, title="完善图书室台账",
                            due_at=SystemClock().now() + timedelta(days=3))
    admin = await sandbox.add_user("王主任", user_id=ADMIN, started=True)
    zhang = await sandbox.add_user("张三", user_id=OWNER, started=True)
    newcomer = await sandbox.add_user("李四", user_id=NEWCOMER)

    await admin.send("/invite 李四")
    await admin.expect_message(contains="邀请码")
    await admin.send("/invite 王五")
    await admin.expect_message(contains="邀请码")
    async with bot.services.session() as s:
        codes = {i.person_id: i.code for i in (await s.execute(select(Invite))).scalars()}
        li_id = (await s.execute(select(Person.id).where(Person.name == "李四"))).scalar_one()
    await newcomer.send(f"/start {codes[li_id]}")
    await newcomer.expect_message(contains="绑定成功")
    await zhang.send(f"/note {task.id} 联系人李四，电话 {PHONE}")
    await zhang.expect_message(contains="备注")

    log = capsys.readouterr().err
    # -v does show the traffic: updates, Bot API calls with their texts, SQL statements.
    assert "Processing update" in log and "Calling Bot API endpoint" in log
    assert "INSERT INTO invites" in log and "联系人李四" in log
    token = bot.config.telegram.token.get_secret_value()
    for secret in (*codes.values(), PHONE, token, token.split(":")[1]):
        assert secret not in log
