"""`make demo` stopped and started again: the real bot, the sandbox and the demo's database.

The sandbox starts empty every run; the demo's database does not. A restart keeps what
the user did, re-creates the same people and the leaders' group, serves the evidence
files the bot refers to, and does not report failures for chats only an earlier run had.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core.clock import FrozenClock
from bot.demo.cast import LEADERS_GROUP_ID
from bot.demo.cli import STALE_CHAT, Demo, demo_config
from bot.services import build_services
from db.models import Evidence, OutboxMessage, OutboxState, Task, TaskStatus
from sandbox import SandboxClient, SimUser
from tests.conftest import PG_URL
from tests.utils.demo import DemoSeeds, demo_app_config

pytestmark = [
    pytest.mark.e2e,
    # The demo always keeps its own SQLite file: the PostgreSQL pass would only repeat it.
    pytest.mark.skipif(bool(PG_URL), reason="the demo uses its own SQLite file"),
]

OFFICE_ID, LEADER_ID = 1001, 1002
GONE_CHAT = -1001000000777


async def _person(client: SandboxClient, user_id: int) -> SimUser:
    info = next(u for u in await client.users() if u["id"] == user_id)
    return SimUser(client, info)


async def test_a_restart_keeps_changes_serves_files_and_forgets_old_chats(
    demo_seeds: DemoSeeds, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    config = demo_app_config(data)
    await demo_seeds.install(data, datetime.now(config.zone).date())
    services = build_services(demo_config(config))
    async with services.session() as session:
        task = (await session.execute(
            select(Task).where(Task.status == TaskStatus.IN_PROGRESS).order_by(Task.id)
        )).scalars().first()
        photo = (await session.execute(select(Evidence).order_by(Evidence.id))).scalars().first()
    await services.db.dispose()
    assert task is not None and task.due_at is not None and photo is not None
    new_day = (task.due_at.astimezone(config.zone) + timedelta(days=6)).date()

    demo = Demo(config)
    await demo.start()
    try:
        async with SandboxClient.for_server(demo.server) as client:
            office = await _person(client, OFFICE_ID)
            await office.send(f"/deadline {task.id} {new_day.isoformat()}")
            await office.expect_message(contains=f"任务 #{task.id} 的截止时间已调整", timeout=20)
    finally:
        await demo.stop()

    # Between the runs, two messages are still waiting: one for the leader, and one for a
    # group that only the first run's sandbox had.
    services = build_services(demo_config(config))
    async with services.session() as session:
        for key, chat_id in (("test:gone", GONE_CHAT), ("test:leader", LEADER_ID)):
            await services.delivery.outbox.enqueue(
                session, key=key, chat_id=chat_id, text=f"仍在等待发送 {key}", kind="bulletin",
            )
    await services.db.dispose()

    demo = Demo(config)
    await demo.start()
    try:
        assert demo.prepared is not None and demo.prepared.seeded is None
        assert demo.dropped == 1
        async with SandboxClient.for_server(demo.server) as client:
            assert {c["id"] for c in await client.chats()} >= {OFFICE_ID, LEADER_ID,
                                                                LEADERS_GROUP_ID}
            leader = await _person(client, LEADER_ID)
            await leader.expect_message(contains="仍在等待发送 test:leader", timeout=20)
            # Evidence uploaded before the restart still opens.
            owner = await _person(client, photo.chat_id)
            await owner.skip_existing()
            await owner.send(f"/evidence {photo.task_id}")
            await owner.expect_photo(timeout=20)
            office = await _person(client, OFFICE_ID)
            for message in await office.messages(from_bot=True):
                assert "没能送达" not in (message.text or ""), message.summary()
                assert str(GONE_CHAT) not in (message.text or ""), message.summary()
    finally:
        await demo.stop()

    services = build_services(demo_config(config), clock=FrozenClock(datetime.now(config.zone)))
    async with services.session() as session:
        kept = await session.get(Task, task.id)
        gone = (await session.execute(
            select(OutboxMessage).where(OutboxMessage.key == "test:gone"))).scalar_one()
    await services.db.dispose()
    assert kept is not None and kept.due_at is not None
    assert kept.due_at.astimezone(config.zone).date() == new_day
    assert (gone.state, gone.last_error) == (OutboxState.CANCELLED, STALE_CHAT)
