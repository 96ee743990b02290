"""Two bot processes on one database (webhook mode behind a load balancer, say) dispatch
the same outbox through the sandbox: every message arrives, and arrives once."""

from __future__ import annotations

import asyncio
from collections import Counter

from bot.core.clock import SystemClock
from db.repositories import delivery as outbox_repo
from sandbox import SandboxClient
from tests.e2e.conftest import StartBot

PEOPLE = 24
EACH = 4


async def test_two_processes_send_each_queued_message_once(
    start_bot: StartBot, sandbox: SandboxClient
) -> None:
    users = [
        await sandbox.add_user(f"责任人{i}", user_id=7100 + i, started=True) for i in range(PEOPLE)
    ]
    first = await start_bot(mode="webhook")
    second = await start_bot(mode="webhook")
    now = SystemClock().now()
    async with first.services.session() as session:
        for user in users:
            for n in range(EACH):
                await outbox_repo.enqueue(
                    session=session, key=f"e2e:{user.id}:{n}", chat_id=user.id,
                    text=f"提醒 {user.id}-{n}", kind="reminder", now=now,
                )
    for live in (first, second):
        live.services.delivery.dispatcher.wake()

    for user in users:
        await user.expect_messages(EACH, contains="提醒", timeout=30)
    await asyncio.sleep(1.0)  # a duplicate would have had time to arrive
    for user in users:
        sent = Counter(m.text for m in await user.messages(from_bot=True) if "提醒" in m.text)
        assert sent == Counter(f"提醒 {user.id}-{n}" for n in range(EACH)), sent
