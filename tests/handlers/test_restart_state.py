"""What a restart keeps (docs/reliability.md): a button pressed after the bot restarted
finds its state in the database. The "restart" is a second Application with its own
services over the same database and data directory; nothing of the first carries over."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from openpyxl import Workbook

import handlers
from bot.app import build_application
from bot.config import AppConfig
from bot.core.clock import FrozenClock
from bot.services import build_services
from db.models import Role
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f
from tests.utils.evidence_files import jpeg
from tests.utils.telegram import RecordingRequest, UpdateFactory, bad_gateway

ADMIN, OWNER = 5591001, 5591002
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Restart = Callable[[], Awaitable[BotHarness]]


@pytest.fixture
async def restart(config: AppConfig, clock: FrozenClock) -> AsyncIterator[Restart]:
    started: list[BotHarness] = []

    async def start() -> BotHarness:
        services = build_services(config, clock=clock)
        request = RecordingRequest()
        app = build_application(config, services=services, request=request, updater=False)
        await app.initialize()
        request.clear()  # initialize()'s getMe
        # The edge's start-up work (albums cut short are answered); the features' own
        # start-up would reach for Telegram through the dispatcher's separate Bot.
        await handlers.on_startup(app)
        h = BotHarness(app, request, UpdateFactory(app.bot), services)
        started.append(h)
        return h

    yield start
    for h in started:
        await h.app.shutdown()
        await h.services.db.dispose()


async def _seed(h: BotHarness) -> int:
    async with h.services.session() as s:
        c = await f.campaign(s)
        await f.phase(s, c, "整改落实")
        edu = await f.unit(s, "县教育局")
        await f.person(s, "周敏", unit=edu, role=Role.ADMIN, telegram_id=ADMIN)
        owner = await f.person(s, "王芳", unit=edu, telegram_id=OWNER)
        task = await f.task(s, c, unit=edu, owner=owner, title="实验室标识标牌",
                            due_at=DEFAULT_NOW + timedelta(days=5))
        return task.id


async def test_a_table_preview_is_confirmed_after_a_restart(
    harness: BotHarness, restart: Restart
) -> None:
    await _seed(harness)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["编号", "单位", "任务", "责任人", "截止时间", "阶段"])
    sheet.append(["Q-1", "县教育局", "核对学籍系统数据", "王芳", "2026-12-01", "整改落实"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    harness.request.files["t"] = buffer.getvalue()
    await harness.process(harness.updates.document(harness.updates.user(ADMIN), "t",
                                                   "任务分解表.xlsx", XLSX))
    preview = harness.request.sent("sendMessage")[-1]
    ok = preview.buttons()[0][1]
    assert "新增任务 1 项" in preview.text and ok.startswith("import:ok:")

    after = await restart()
    await after.process(after.updates.callback(after.updates.user(ADMIN), ok, preview.text))
    assert "导入完成：新增任务 1 项" in after.request.last_text()


async def test_a_download_to_try_again_survives_a_restart(
    harness: BotHarness, restart: Restart
) -> None:
    task_id = await _seed(harness)
    harness.request.files["p"] = jpeg(color=(3, 4, 5))
    harness.request.fail_next("getFile", *[bad_gateway()] * 4)
    await harness.process(harness.updates.photo(harness.updates.user(OWNER), "p", f"#{task_id}"))
    answer = harness.request.sent("sendMessage")[-1]
    retry = next(data for _, data in answer.buttons() if data.startswith("ev:retry:"))

    after = await restart()
    assert after.request.sent("sendMessage") == []  # the start-up hook left it to the sender
    after.request.files["p"] = harness.request.files["p"]
    await after.process(after.updates.callback(after.updates.user(OWNER), retry))
    assert f"任务 #{task_id}「实验室标识标牌」已收到 1 份" in after.request.last_text()
