"""/healthz over real HTTP: the server of `inspectbot run`, the real database behind it.

Healthy answers 200 with every check named; a database that cannot be reached, a schema
behind the code and an outbox falling behind each answer 503 and name the failing check.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy.engine import make_url

from bot.config import AppConfig, OpsConfig
from bot.core.clock import FrozenClock
from bot.ops.health import HealthChecks, head_revision
from bot.ops.server import OpsServer
from bot.services import Services
from db.migrate import downgrade, expected_head, upgrade
from db.repositories import delivery as outbox_repo
from db.session import Database

Serve = Callable[..., Awaitable[str]]


@pytest.fixture
async def serve(services: Services) -> AsyncIterator[Serve]:
    """Start the ops server on a free port; returns its base address."""
    servers: list[OpsServer] = []

    async def start(*, db: Database | None = None, **ops: Any) -> str:
        checks = HealthChecks(db=db or services.db, scheduler=services.scheduler,
                              clock=services.clock, config=OpsConfig(**ops))
        server = OpsServer(health=checks.run)
        await server.start("127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.port}"

    services.scheduler.start()
    yield start
    for server in servers:
        await server.stop()
    services.scheduler.shutdown()


async def _get(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


def test_the_head_is_read_without_alembic_and_agrees_with_it() -> None:
    assert head_revision() == expected_head()


async def test_healthy_answers_200_with_every_check(serve: Serve) -> None:
    status, body = await _get(await serve() + "/healthz")

    assert status == 200
    assert body["status"] == "ok" and body["failing"] == []
    checks = body["checks"]
    assert set(checks) == {"database", "schema", "scheduler", "outbox"}
    assert all(check["ok"] for check in checks.values())
    assert checks["schema"]["current"] == checks["schema"]["expected"] == expected_head()
    assert checks["outbox"]["due"] == 0


async def test_a_database_that_cannot_be_reached_answers_503(
    serve: Serve, config: AppConfig, tmp_path: Path
) -> None:
    if make_url(config.database.url).get_backend_name() == "sqlite":
        gone = f"sqlite:///{tmp_path / 'moved-away' / 'bot.db'}"  # its directory is gone
    else:
        gone = "postgresql://inspectbot@127.0.0.1:1/gone"  # nothing listens on port 1
    unreachable = Database(gone)
    try:
        status, body = await _get(await serve(db=unreachable) + "/healthz")
    finally:
        await unreachable.dispose()

    assert status == 503
    assert body["status"] == "failing"
    assert body["failing"] == ["database", "schema", "outbox"]
    assert body["checks"]["scheduler"]["ok"] is True
    assert "moved-away" not in str(body) and "127.0.0.1:1" not in str(body)  # no addresses


async def test_a_schema_behind_the_code_answers_503(
    serve: Serve, services: Services, database_url: str
) -> None:
    await services.db.dispose()
    await asyncio.to_thread(downgrade, database_url, "-1")
    try:
        status, body = await _get(await serve() + "/healthz")
    finally:
        await services.db.dispose()
        await asyncio.to_thread(upgrade, database_url)

    assert status == 503
    assert body["failing"] == ["schema"]
    schema = body["checks"]["schema"]
    assert schema["expected"] == expected_head() != schema["current"]


async def test_an_outbox_falling_behind_answers_503(
    serve: Serve, services: Services, clock: FrozenClock
) -> None:
    now = clock.now()
    async with services.session() as session:
        for n, minutes in enumerate((20, 5, 0)):
            await outbox_repo.enqueue(session=session, key=f"lag:{n}", chat_id=4700001 + n,
                                      text="提醒", kind="reminder", now=now,
                                      not_before=now - timedelta(minutes=minutes))
        # Not yet due: never lag.
        await outbox_repo.enqueue(session=session, key="later", chat_id=4700009, text="提醒",
                                  kind="reminder", now=now, not_before=now + timedelta(hours=1))

    status, body = await _get(await serve(outbox_lag_warn_seconds=600) + "/healthz")
    relaxed, _ = await _get(await serve(outbox_lag_warn_seconds=1800) + "/healthz")
    by_count, counted = await _get(await serve(outbox_lag_warn_seconds=1800,
                                               outbox_due_warn=2) + "/healthz")

    assert status == 503
    assert body["failing"] == ["outbox"]
    outbox = body["checks"]["outbox"]
    assert outbox["due"] == 3 and outbox["oldest_due_seconds"] == 20 * 60
    assert "4700001" not in str(body)  # counts and ages, nobody's chat
    assert relaxed == 200
    assert by_count == 503 and counted["failing"] == ["outbox"]


async def test_a_stopped_scheduler_answers_503(serve: Serve, services: Services) -> None:
    base = await serve()
    services.scheduler.shutdown()

    status, body = await _get(base + "/healthz")

    assert status == 503
    assert body["failing"] == ["scheduler"]


async def test_only_the_operations_routes_are_served_without_a_webhook(serve: Serve) -> None:
    base = await serve()
    async with aiohttp.ClientSession() as session:
        async with session.post(base + "/", json={"update_id": 1}) as response:
            assert response.status == 404
        async with session.get(base + "/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
