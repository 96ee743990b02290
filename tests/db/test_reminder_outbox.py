"""The outbox on a real database: queue once per key, claim exclusively, settle every row."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from telegram.ext import ExtBot
from telegram.request import RequestData

from bot.config import DeliveryConfig
from bot.core.keyboard import Button, Keyboard
from bot.delivery.dispatcher import Dispatcher
from bot.services import Services
from db.models import OutboxMessage, OutboxState, Person, Role
from db.repositories import delivery as outbox_repo
from tests.conftest import PG_URL
from tests.utils import factories as f
from tests.utils.delivery import dispatcher
from tests.utils.telegram import RecordingRequest

FAST = DeliveryConfig(
    global_per_second=1000, private_per_second=1000, group_per_minute=1000, poll_seconds=0.05,
    max_attempts=3,
)


@dataclass
class FlakyRequest(RecordingRequest):
    """Answers like Telegram, but refuses some sends the way Telegram does."""

    refuse: dict[int, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    fail_every: int = 0
    flood_once: set[int] = field(default_factory=set)  # chats whose first send gets a 429
    accepted: list[tuple[float, int, str]] = field(default_factory=list)  # (when, chat, text)
    flooded_at: dict[int, float] = field(default_factory=dict)
    _n: int = 0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        if url.endswith("/sendMessage") and request_data is not None:
            chat = int(str(request_data.parameters["chat_id"]))
            if chat in self.refuse:
                code, body = self.refuse[chat]
                return code, json.dumps({"ok": False, "error_code": code, **body}).encode()
            if chat in self.flood_once and chat not in self.flooded_at:
                self.flooded_at[chat] = time.monotonic()
                return 429, json.dumps({
                    "ok": False, "error_code": 429, "description": "Too Many Requests",
                    "parameters": {"retry_after": 1},
                }).encode()
            self._n += 1
            if self.fail_every and self._n % self.fail_every == 0:
                kind = (self._n // self.fail_every) % 2
                if kind:
                    return 429, json.dumps({
                        "ok": False, "error_code": 429, "description": "Too Many Requests",
                        "parameters": {"retry_after": 1},
                    }).encode()
                return 500, b'{"ok": false, "error_code": 500, "description": "Internal"}'
            self.accepted.append((time.monotonic(), chat, str(request_data.parameters["text"])))
        return await super().do_request(url, method, request_data, *args, **kwargs)


async def _bot(request: RecordingRequest) -> ExtBot[None]:
    bot: ExtBot[None] = ExtBot("123:TEST", request=request, get_updates_request=request)
    await bot.initialize()
    return bot


def _delivery(services: Services, worker: str, config: DeliveryConfig = FAST) -> Dispatcher:
    return dispatcher(services, worker=worker, config=config)


async def test_enqueue_is_once_per_key_and_revives_a_cancelled_one(services: Services) -> None:
    delivery = _delivery(services, "w1")
    markup = Keyboard.of([[Button("完成", "rem:done:1")]])
    async with services.session() as s:
        assert await delivery.outbox.enqueue(s, key="k1", chat_id=5, text="一", kind="test",
                                      reply_markup=markup)
        assert not await delivery.outbox.enqueue(s, key="k1", chat_id=5, text="二", kind="test")
    async with services.session() as s:
        rows = (await s.execute(select(OutboxMessage))).scalars().all()
        assert [(r.key, r.text, r.state) for r in rows] == [("k1", "一", OutboxState.PENDING)]
        assert json.loads(rows[0].reply_markup or "")["inline_keyboard"][0][0]["text"] == "完成"
        rows[0].state = OutboxState.CANCELLED
    async with services.session() as s:
        assert await delivery.outbox.enqueue(s, key="k1", chat_id=5, text="三", kind="test")
        row = (await s.execute(select(OutboxMessage))).scalar_one()
        await s.refresh(row)
        assert (row.text, row.state) == ("三", OutboxState.PENDING)


async def test_claims_are_exclusive_and_a_lapsed_lease_is_taken_over(services: Services) -> None:
    now = services.clock.now()
    async with services.session() as s:
        for i in range(10):
            await outbox_repo.enqueue(session=s, key=f"k{i}", chat_id=100 + i, text="x",
                                      kind="test", now=now)
        await outbox_repo.enqueue(session=s, key="later", chat_id=1, text="x", kind="test",
                                  now=now, not_before=now + timedelta(hours=1))
    lease = timedelta(seconds=60)
    async with services.session() as s:
        first = await outbox_repo.claim(session=s, worker="a", now=now, lease=lease, limit=6)
    async with services.session() as s:
        second = await outbox_repo.claim(session=s, worker="b", now=now, lease=lease, limit=6)
    assert len(first) == 6 and len(second) == 4
    assert not {r.id for r in first} & {r.id for r in second}
    async with services.session() as s:
        assert await outbox_repo.claim(session=s, worker="c", now=now, lease=lease, limit=6) == []
        # "a" died: after its lease, "c" may take its rows; "a" can no longer settle them.
        taken = await outbox_repo.claim(session=s, worker="c", now=now + timedelta(hours=2), lease=lease,
                                        limit=20)
    assert {r.key for r in taken} == {r.key for r in [*first, *second]} | {"later"}
    async with services.session() as s:
        assert await outbox_repo.mark_sent_many(session=s, message_ids=[first[0].id],
                                                worker="a", now=now, telegram_id=1) == 0


async def _two_dispatchers(services: Services, messages: int, chats: int) -> None:
    async with services.session() as s:
        for i in range(messages):
            await outbox_repo.enqueue(session=s, key=f"m{i}", chat_id=1000 + i % chats,
                                      text=f"消息 {i}", kind="test", now=services.clock.now())
    requests = [RecordingRequest(), RecordingRequest()]
    dispatchers = [_delivery(services, f"worker-{n}") for n in (1, 2)]
    for each, request in zip(dispatchers, requests, strict=True):
        await each.start(await _bot(request))
    assert all(await asyncio.gather(*(d.wait_idle(60) for d in dispatchers)))
    await asyncio.gather(*(d.stop() for d in dispatchers))
    sent = Counter(c.text for r in requests for c in r.sent("sendMessage"))
    assert sum(sent.values()) == messages and set(sent.values()) == {1}
    # Both really took part: the claim was shared, not serialised onto one.
    assert all(len(r.sent("sendMessage")) > 0 for r in requests)
    async with services.session() as s:
        states = await outbox_repo.counts_by_state(session=s)
    assert states == {OutboxState.SENT: messages}


async def test_two_dispatchers_on_one_database_send_each_message_once(services: Services) -> None:
    """SQLite here (one writer at a time); PostgreSQL too when CI sets TEST_DATABASE_URL."""
    await _two_dispatchers(services, messages=300, chats=60)


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
async def test_two_dispatchers_on_postgresql_use_skip_locked(services: Services) -> None:
    assert services.db.dialect == "postgresql"
    await _two_dispatchers(services, messages=600, chats=80)


async def test_flood_and_server_errors_are_retried_until_everything_arrives(
    services: Services,
) -> None:
    async with services.session() as s:
        for i in range(40):
            await outbox_repo.enqueue(session=s, key=f"m{i}", chat_id=2000 + i % 8, text=f"#{i}",
                                      kind="test", now=services.clock.now())
    request = FlakyRequest(fail_every=10)
    delivery = _delivery(services, "w", DeliveryConfig(
        global_per_second=1000, private_per_second=1000, poll_seconds=0.05, max_attempts=6))
    await delivery.start(await _bot(request))
    assert await delivery.wait_idle(60)
    await delivery.stop()
    texts = Counter(c.text for c in request.sent("sendMessage"))
    assert set(texts) == {f"#{i}" for i in range(40)}
    async with services.session() as s:
        assert await outbox_repo.counts_by_state(session=s) == {OutboxState.SENT: 40}
    assert delivery.stats["flood_waits"] > 0 and delivery.stats["retries"] > 0


async def test_a_429_pauses_only_its_chat_for_retry_after_and_order_is_kept(
    services: Services,
) -> None:
    chats = [3001, 3002, 3003, 3004]
    async with services.session() as s:
        for round_ in range(4):
            for chat in chats:
                await outbox_repo.enqueue(session=s, key=f"{chat}:{round_}", chat_id=chat,
                                          text=f"{chat}-{round_}", kind="test",
                                          now=services.clock.now())
    request = FlakyRequest(flood_once={3001})
    delivery = _delivery(services, "w", DeliveryConfig(
        global_per_second=1000, private_per_second=20, poll_seconds=0.05))
    await delivery.start(await _bot(request))
    assert await delivery.wait_idle(30)
    await delivery.stop()
    for chat in chats:
        assert [text for _, c, text in request.accepted if c == chat] == [
            f"{chat}-{r}" for r in range(4)]
    first_retry = min(at for at, c, _ in request.accepted if c == 3001)
    assert first_retry - request.flooded_at[3001] >= 1.0
    # The other chats did not wait for the paused one: all theirs went out before it resumed.
    assert max(at for at, c, _ in request.accepted if c != 3001) < first_retry
    assert delivery.stats["flood_waits"] == 1
    async with services.session() as s:
        assert await outbox_repo.counts_by_state(session=s) == {OutboxState.SENT: 16}


async def test_blocked_person_and_exhausted_retries_reach_the_office(services: Services) -> None:
    async with services.session() as s:
        await f.person(s, "办公室", role=Role.ADMIN, telegram_id=900)
        blocked = await f.person(s, "王五", telegram_id=901)
        now = services.clock.now()
        await outbox_repo.enqueue(session=s, key="a", chat_id=901, person_id=blocked.id,
                                  text="提醒", kind="reminder.owner", now=now)
        await outbox_repo.enqueue(session=s, key="b", chat_id=902, text="提醒", kind="test",
                                  now=now)
    request = FlakyRequest(refuse={
        901: (403, {"description": "Forbidden: bot was blocked by the user"}),
        902: (502, {"description": "Bad Gateway"}),
    })
    delivery = _delivery(services, "w")
    await delivery.start(await _bot(request))
    assert await delivery.wait_idle(30)
    await delivery.stop()
    async with services.session() as s:
        rows = {r.key: r for r in (await s.execute(select(OutboxMessage))).scalars()}
        person = await s.get(Person, blocked.id)
    assert rows["a"].state is OutboxState.DEAD
    assert rows["b"].state is OutboxState.FAILED and rows["b"].attempts == FAST.max_attempts
    assert person is not None and person.unreachable_since is not None
    told = [c.text for c in request.sent("sendMessage") if c.chat_id == 900]
    assert len(told) == 2 and any("王五" in t for t in told)
    # Said in words: what it was, and why (issue 13: no "#12 (kind) Bad Gateway").
    assert any("没能送达" in t and "与 Telegram 的网络连接多次中断" in t for t in told)


async def test_stop_gives_claimed_messages_back(services: Services) -> None:
    async with services.session() as s:
        for i in range(30):
            await outbox_repo.enqueue(session=s, key=f"m{i}", chat_id=77, text=f"{i}",
                                      kind="test", now=services.clock.now())
    slow = DeliveryConfig(private_per_second=5, poll_seconds=0.05)
    delivery = _delivery(services, "w", slow)
    request = RecordingRequest()
    await delivery.start(await _bot(request))
    await asyncio.sleep(0.5)
    await delivery.stop()
    async with services.session() as s:
        states = await outbox_repo.counts_by_state(session=s)
    sent = len(request.sent("sendMessage"))
    assert 0 < sent < 30
    assert states == {OutboxState.SENT: sent, OutboxState.PENDING: 30 - sent}
