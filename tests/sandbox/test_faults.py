"""Fault injection: latency, 5xx, dropped connections and 429s, repeatable by seed."""

from __future__ import annotations

import time

import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TelegramError

from sandbox import FaultConfig, RateLimitConfig, SandboxClient, SandboxServer
from sandbox.faults import Fault, FaultInjector

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.sandbox(rate_limits=RateLimitConfig(enabled=False)),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]


def test_same_seed_same_faults() -> None:
    config = FaultConfig(error_share=0.2, drop_share=0.1, flood_share=0.1, seed=42)
    one, two = FaultInjector(config), FaultInjector(config)
    run_one = [one.decide("sendMessage").fault for _ in range(200)]
    run_two = [two.decide("sendMessage").fault for _ in range(200)]
    assert run_one == run_two
    shares = {fault: run_one.count(fault) / 200 for fault in Fault}
    assert 0.1 < shares[Fault.ERROR_500] + shares[Fault.ERROR_502] < 0.3
    assert 0.03 < shares[Fault.DROP] < 0.2 and 0.03 < shares[Fault.FLOOD] < 0.2


def test_shares_must_fit_in_one() -> None:
    with pytest.raises(ValueError, match="at most 1"):
        FaultConfig(error_share=0.7, drop_share=0.5)


def test_faults_can_target_some_methods() -> None:
    injector = FaultInjector(FaultConfig(error_share=1.0, methods=frozenset({"sendMessage"})))
    assert injector.decide("getUpdates").fault is Fault.NONE
    assert injector.decide("sendmessage").fault in {Fault.ERROR_500, Fault.ERROR_502}


async def test_latency_is_added(bot: Bot, sandbox: SandboxClient) -> None:
    await sandbox.set_faults(latency_ms=150)
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started >= 0.15


async def test_server_errors_reach_ptb_as_network_errors(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三", started=True)
    await sandbox.set_faults(error_share=1.0, methods=["sendMessage"])
    seen: set[str] = set()
    for _ in range(8):
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(alice.id, "提醒")
        seen.add(str(caught.value))
    assert any("Internal Server Error" in text for text in seen)
    assert any("Bad Gateway" in text for text in seen)
    assert await alice.messages() == []  # a failed request delivers nothing


async def test_dropped_connections(bot: Bot, sandbox: SandboxClient) -> None:
    await sandbox.set_faults(drop_share=1.0, methods=["getMe"])
    with pytest.raises(NetworkError):
        await bot.get_me()
    assert (await sandbox.stats())["faults"] == {"drop": 1}


async def test_injected_flood_control(bot: Bot, sandbox: SandboxClient) -> None:
    await sandbox.set_faults(flood_share=1.0, flood_retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.get_me()
    assert caught.value.retry_after == 3


async def test_a_retrying_sender_delivers_everything_despite_faults(
    bot: Bot, sandbox: SandboxClient
) -> None:
    alice = await sandbox.add_user("张三", started=True)
    await sandbox.set_faults(error_share=0.3, drop_share=0.1, seed=7, methods=["sendMessage"])
    for index in range(20):
        for _attempt in range(20):
            try:
                await bot.send_message(alice.id, f"第{index}条")
                break
            except TelegramError:
                continue
    stats = await sandbox.stats()
    assert stats["messages_delivered"] == 20 and sum(stats["faults"].values()) > 0
    assert len(await alice.messages()) == 20


async def test_faults_are_configurable_per_run() -> None:
    async with SandboxServer(faults=FaultConfig(error_share=1.0)) as server:
        with pytest.raises(NetworkError):
            async with Bot(server.token, base_url=server.base_url):
                pass
