"""The webhook server of `inspectbot run` (bot.ops.server) over real HTTP.

It keeps what python-telegram-bot's own server did — the secret, the one path, a bounded
body, 400 for what is not an update — and serves /healthz and /metrics beside the
webhook on the same port; in polling mode they have a port of their own.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from bot.ops.server import MAX_BODY_BYTES, SECRET_HEADER
from db.models import Role
from sandbox import SandboxClient
from tests.e2e.conftest import LiveBot, StartBot, free_port
from tests.utils import factories as f

ADMIN = 4800001


async def _seed_admin(bot: LiveBot) -> None:
    async with bot.services.session() as s:
        await f.person(s, "王主任", role=Role.ADMIN, telegram_id=ADMIN)


def _base(bot: LiveBot) -> str:
    return f"http://127.0.0.1:{bot.intake.port}"


async def _request(method: str, url: str, *, data: bytes | str | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.request(
        method, url, data=data, headers=headers
    ) as response:
        return response.status, await response.text()


def _secret(bot: LiveBot) -> dict[str, str]:
    return {SECRET_HEADER: bot.config.telegram.webhook_secret_value,
            "Content-Type": "application/json"}


async def test_health_and_metrics_share_the_webhook_port(
    start_bot: StartBot, sandbox: SandboxClient
) -> None:
    bot = await start_bot(mode="webhook")
    assert bot.intake.port == bot.config.telegram.webhook_port

    status, body = await _request("GET", _base(bot) + "/healthz")
    metrics_status, metrics = await _request("GET", _base(bot) + "/metrics")

    assert status == 200 and json.loads(body)["status"] == "ok"
    assert metrics_status == 200 and "# TYPE" in metrics
    secret = bot.config.telegram.webhook_secret_value
    for text in (body, metrics):
        assert secret not in text and bot.config.telegram.bot_token not in text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{not json", 400),
        ('"a string"', 400),
        ('{"no_update_id": true}', 400),
        ("\udcff".encode("utf-8", "surrogatepass"), 400),
        (b"{" + b" " * MAX_BODY_BYTES + b"}", 413),
    ],
    ids=["malformed", "not-an-object", "not-an-update", "not-utf8", "too-large"],
)
async def test_what_is_not_an_update_is_refused_and_the_bot_goes_on(
    start_bot: StartBot, sandbox: SandboxClient, body: str | bytes, expected: int
) -> None:
    bot = await start_bot(mode="webhook")
    await _seed_admin(bot)
    admin = await sandbox.add_user("王主任", user_id=ADMIN, started=True)

    status, _ = await _request("POST", bot.config.telegram.webhook_url, data=body,
                               headers=_secret(bot))

    assert status == expected
    await admin.send("/help")
    await admin.expect_message(contains="/")


async def test_only_the_webhook_path_takes_updates(
    start_bot: StartBot, sandbox: SandboxClient
) -> None:
    bot = await start_bot(mode="webhook")
    update: dict[str, Any] = {"update_id": 1}
    for path in ("/", "/hook", "/hook/inspectbot/x", "/healthz"):
        status, _ = await _request("POST", _base(bot) + path, data=json.dumps(update),
                                   headers=_secret(bot))
        assert status in (404, 405), path
    status, _ = await _request("GET", bot.config.telegram.webhook_url)
    assert status == 405


async def test_polling_mode_serves_health_on_its_own_port(
    start_bot: StartBot, sandbox: SandboxClient
) -> None:
    port = free_port()
    bot = await start_bot(mode="polling", ops_port=port)
    assert bot.intake.port == port

    status, body = await _request("GET", f"http://127.0.0.1:{port}/healthz")

    assert status == 200 and json.loads(body)["checks"]["scheduler"]["ok"] is True
    await bot.stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        await _request("GET", f"http://127.0.0.1:{port}/healthz")


async def test_polling_mode_with_port_zero_serves_nothing(
    start_bot: StartBot, sandbox: SandboxClient
) -> None:
    bot = await start_bot(mode="polling")
    assert bot.config.ops.port == 0 and bot.intake.server is None


def _samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(exposition) for s in family.samples}


def _value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], metric: str,
           **labels: str) -> float:
    return samples.get((metric, frozenset(labels.items())), 0.0)


async def test_metrics_scraped_after_real_updates_and_deliveries(
    start_bot: StartBot, sandbox: SandboxClient
) -> None:
    bot = await start_bot(mode="webhook")
    await _seed_admin(bot)
    admin = await sandbox.add_user("王主任", user_id=ADMIN, started=True)
    stranger = await sandbox.add_user("路人", user_id=ADMIN + 1, started=True)
    _, text = await _request("GET", _base(bot) + "/metrics")
    before = _samples(text)

    await admin.send("/help")
    await admin.expect_message(contains="/")
    await stranger.send("/tasks")
    await stranger.expect_message()
    # Telegram's flood control answers the outbox's next send with a 429 once.
    await sandbox.set_faults(flood_share=1.0, flood_retry_after=1, methods=["sendMessage"])
    async with bot.services.session() as session:
        await bot.services.delivery.outbox.enqueue(
            session, key="ops-metrics-1", chat_id=ADMIN, text="督办提醒", kind="bulletin")
    for _ in range(50):
        _, text = await _request("GET", _base(bot) + "/metrics")
        if _value(_samples(text), "inspectbot_telegram_429_total", path="outbox") > \
                _value(before, "inspectbot_telegram_429_total", path="outbox"):
            break
        await asyncio.sleep(0.1)
    await sandbox.set_faults(flood_share=0.0)
    await admin.expect_message(contains="督办提醒", timeout=15)
    await asyncio.sleep(0.3)  # the dispatcher settles the row after Telegram's answer
    _, text = await _request("GET", _base(bot) + "/metrics")
    after = _samples(text)

    def moved(metric: str, **labels: str) -> float:
        return _value(after, metric, **labels) - _value(before, metric, **labels)

    assert moved("inspectbot_updates_total", kind="command", name="help", outcome="ok") == 1
    assert moved("inspectbot_updates_total", kind="command", name="tasks",
                 outcome="refused") == 1
    assert moved("inspectbot_update_seconds_count", kind="command") == 2
    assert moved("inspectbot_outbox_queued_total") == 1
    assert moved("inspectbot_outbox_sent_total", kind="bulletin") == 1
    assert moved("inspectbot_telegram_429_total", path="outbox") >= 1
    assert _value(after, "inspectbot_health_check_ok", check="database") == 1
    assert _value(after, "inspectbot_outbox_due") == 0
