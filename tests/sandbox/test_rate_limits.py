"""Flood control: per private chat, per group, overall; bursts; honoured retry_after."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from sandbox import RateLimitConfig, SandboxClient
from sandbox.errors import ApiError
from sandbox.limits import RateLimiter

# PTB warns that RetryAfter.retry_after will become a timedelta
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def retry_after(limiter: RateLimiter, chat_id: int, *, private: bool) -> int | None:
    try:
        limiter.acquire(chat_id, is_private=private)
    except ApiError as error:
        assert error.code == 429 and error.parameters is not None
        return int(error.parameters["retry_after"])
    return None


def test_private_chat_allows_one_per_second_by_default() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimitConfig(), clock)
    assert retry_after(limiter, 1, private=True) is None
    assert retry_after(limiter, 1, private=True) == 1
    assert retry_after(limiter, 2, private=True) is None  # other chats are independent
    clock.now += 1.0
    assert retry_after(limiter, 1, private=True) is None


def test_private_burst_is_configurable() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimitConfig(private_burst=3), clock)
    assert [retry_after(limiter, 1, private=True) for _ in range(4)] == [None, None, None, 1]


def test_an_album_larger_than_the_burst_goes_out_when_the_bucket_is_full() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimitConfig(private_burst=3), clock)
    limiter.acquire(1, is_private=True)  # a reply first: two of three left
    try:
        limiter.acquire(1, is_private=True, count=10)
    except ApiError as error:
        assert error.parameters == {"retry_after": 1}
    clock.now += 1.0
    limiter.acquire(1, is_private=True, count=10)  # the retry_after given is honoured
    # ten items paid for with three: the chat waits for the other seven, and then some
    assert retry_after(limiter, 1, private=True) == 8
    clock.now += 8.0
    assert retry_after(limiter, 1, private=True) is None


def test_group_allows_twenty_per_minute() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimitConfig(), clock)
    for _ in range(20):
        assert retry_after(limiter, -100, private=False) is None
        clock.now += 0.5
    assert retry_after(limiter, -100, private=False) == 50
    clock.now += 50
    assert retry_after(limiter, -100, private=False) is None


def test_thirty_per_second_overall() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimitConfig(), clock)
    assert all(retry_after(limiter, chat, private=True) is None for chat in range(30))
    assert retry_after(limiter, 99, private=True) == 1


def test_refused_sends_do_not_use_quota() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimitConfig(), clock)
    limiter.acquire(1, is_private=True)
    for _ in range(5):
        assert retry_after(limiter, 1, private=True) == 1
    clock.now += 1.0
    assert retry_after(limiter, 1, private=True) is None


@pytest.mark.e2e
async def test_a_bot_that_waits_retry_after_gets_through(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三", started=True)
    delivered = 0
    for text in ("一", "二"):
        while True:
            try:
                await bot.send_message(alice.id, text)
                delivered += 1
                break
            except RetryAfter as exc:
                await asyncio.sleep(float(exc.retry_after))  # type: ignore[arg-type]
    stats = await sandbox.stats()
    assert delivered == 2 and stats["rate_limited"] == 1
    assert stats["delivered_per_chat"] == {str(alice.id): 2}


@pytest.mark.e2e
async def test_limits_switch_at_runtime(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三", started=True)
    await sandbox.set_rate_limits(enabled=False)
    for index in range(5):
        await bot.send_message(alice.id, str(index))
    await sandbox.set_rate_limits(enabled=True, private_burst=2)
    await bot.send_message(alice.id, "a")
    await bot.send_message(alice.id, "b")
    with pytest.raises(RetryAfter):
        await bot.send_message(alice.id, "c")
