"""Webhook delivery as Telegram does it: up to max_connections updates at once, each chat's
in order. A bot behind a load balancer only gains from more processes if it does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from telegram import Bot

from sandbox import SandboxClient, SandboxServer

from .conftest import free_port

HOLD = 0.3  # how long the receiver takes to answer each update


@dataclass
class Receiver:
    """A webhook that answers every update after HOLD seconds and records what overlapped."""

    port: int = field(default_factory=free_port)
    texts: list[str] = field(default_factory=list)
    in_flight: dict[int, int] = field(default_factory=dict)  # chat -> requests open
    most_at_once: int = 0
    chat_overlaps: int = 0

    async def hook(self, request: web.Request) -> web.Response:
        update = await request.json()
        chat = update["message"]["chat"]["id"]
        self.in_flight[chat] = self.in_flight.get(chat, 0) + 1
        self.chat_overlaps += self.in_flight[chat] > 1
        self.most_at_once = max(self.most_at_once, sum(self.in_flight.values()))
        await asyncio.sleep(HOLD)
        self.in_flight[chat] -= 1
        self.texts.append(update["message"]["text"])
        return web.Response()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/hook", found.hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", found.port).start()
    yield found
    await runner.cleanup()


async def _deliver(receiver: Receiver, *, max_connections: int | None,
                   messages: list[tuple[int, str]]) -> float:
    async with SandboxServer() as server:
        client = SandboxClient.for_server(server)
        users = {uid: await client.add_user(f"用户{uid}", user_id=uid)
                 for uid in {uid for uid, _ in messages}}
        async with Bot(server.token, base_url=server.base_url) as bot:
            await bot.set_webhook(f"http://127.0.0.1:{receiver.port}/hook",
                                  max_connections=max_connections)
        started = asyncio.get_running_loop().time()
        for uid, text in messages:
            await users[uid].send(text)
        while len(receiver.texts) < len(messages):
            assert asyncio.get_running_loop().time() - started < 20
            await asyncio.sleep(0.01)
        took = asyncio.get_running_loop().time() - started
        await client.close()
    return took


async def test_updates_of_different_chats_are_delivered_at_once(receiver: Receiver) -> None:
    took = await _deliver(receiver, max_connections=None,
                          messages=[(5000 + i, f"第{i}条") for i in range(10)])
    assert receiver.most_at_once >= 5
    assert took < 10 * HOLD / 2  # one at a time would take 10 × HOLD


async def test_max_connections_bounds_the_requests_at_once(receiver: Receiver) -> None:
    await _deliver(receiver, max_connections=2,
                   messages=[(5100 + i, f"第{i}条") for i in range(6)])
    assert receiver.most_at_once == 2


async def test_one_chat_is_delivered_in_order_one_at_a_time(receiver: Receiver) -> None:
    mine = [(5200, f"甲{i}") for i in range(4)]
    others = [(5201 + i, f"乙{i}") for i in range(4)]
    await _deliver(receiver, max_connections=None, messages=mine + others)
    assert receiver.chat_overlaps == 0
    assert [t for t in receiver.texts if t.startswith("甲")] == ["甲0", "甲1", "甲2", "甲3"]
