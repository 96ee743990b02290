"""Issue 11, row 3: a fault repeated by a flood reaches the admins as one counted digest,
not one traceback per update."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application
from bot.config import AppConfig
from bot.services import Services
from db.models import Role
from handlers.errors import DIGEST_JOB, send_digest
from tests.conftest import DEFAULT_NOW, UNLIMITED_FLOOD, BotHarness
from tests.utils import factories as f
from tests.utils.telegram import RecordingRequest, UpdateFactory

OWNER, ADMIN, ADMIN2 = 5600001, 5600002, 5600003


class RefusingRequest(RecordingRequest):
    """A proxy in front of the Bot API answering every message to one chat with a page of
    its own (PTB: TelegramError "Invalid server response", a fault no retry fixes)."""

    async def do_request(self, url: str, method: str, request_data: Any = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        status, body = await super().do_request(url, method, request_data, *args, **kwargs)
        call = self.calls[-1] if self.calls else None
        if call is not None and call.method == "sendMessage" and call.chat_id == OWNER:
            return 200, b"<html><body>upstream misconfigured</body></html>"
        return status, body


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> AppConfig:
    return AppConfig.model_validate({
        "database": {"url": database_url},
        "storage": {"data_dir": str(tmp_path / "data")},
        "telegram": {"admin_ids": [ADMIN, ADMIN2]},
        "flood": UNLIMITED_FLOOD,
        # The faults, not Telegram's pace of a private chat, are what this test is about.
        "reminders": {"delivery": {"private_per_second": 1000}},
    })


@pytest.fixture
async def refusing(config: AppConfig, services: Services) -> AsyncIterator[BotHarness]:
    request = RefusingRequest()
    app = build_application(config, services=services, request=request, updater=False)
    async with app:
        request.clear()
        yield BotHarness(app, request, UpdateFactory(app.bot), services)


async def test_sixty_failures_make_one_digest_per_admin(refusing: BotHarness) -> None:
    h = refusing
    async with h.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        owner = await f.person(s, "张三", unit=edu, telegram_id=OWNER)
        await f.person(s, "王主任", role=Role.ADMIN, telegram_id=ADMIN)
        await f.task(s, c, unit=edu, owner=owner, due_at=DEFAULT_NOW + timedelta(days=1))
    user = h.updates.user(OWNER)
    # At once, as a flood arrives: each failing reply spends its own retry budget.
    await asyncio.gather(*(h.process(h.updates.text(user, "/tasks")) for _ in range(60)))

    def to_admins() -> list[str]:
        return [c.text for c in h.request.sent("sendMessage") if c.chat_id in (ADMIN, ADMIN2)]

    assert to_admins() == []  # nothing yet: the digest is scheduled, not sent per fault
    assert DIGEST_JOB in h.services.scheduler.job_ids()
    await send_digest(h.app)  # what the scheduled job runs
    digests = to_admins()
    assert len(digests) == 2  # one for each admin
    assert "60 次" in digests[0] and "TelegramError: Invalid server response" in digests[0]
    assert "×60" in digests[0] and "Traceback" not in digests[0]
    await send_digest(h.app)
    assert len(to_admins()) == 2  # nothing new, nothing sent


async def test_the_digest_is_in_each_admins_language(harness: BotHarness) -> None:
    """Issue 13, decided: each admin reads the digest in their own language (their
    /settings language when the admin account is linked, else the bot's default); the
    fault lines stay as the log has them."""
    async with harness.services.session() as s:
        await f.person(s, "Wang", role=Role.ADMIN, telegram_id=ADMIN, language="en")
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        harness.services.errors.note(error)
    await send_digest(harness.app)
    sent = {c.chat_id: c.text for c in harness.request.sent("sendMessage")}
    assert sent[ADMIN].startswith("⚠️ The bot failed 1 time ")
    assert sent[ADMIN2].startswith("⚠️ 机器人出错 1 次")
    assert "boom" in sent[ADMIN] and "boom" in sent[ADMIN2]
