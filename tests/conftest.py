"""Shared fixtures: a migrated real database per test, services on a frozen clock, and the
real Application processing real updates through a recording request."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import build_application
from bot.config import AppConfig
from bot.core.clock import FrozenClock
from bot.services import Services, build_services
from db.base import Base
from db.migrate import upgrade
from db.session import normalise_url
from handlers.context import AppType
from tests.utils.demo import DemoSeeds
from tests.utils.s3 import MotoServer, running_moto
from tests.utils.telegram import RecordingRequest, UpdateFactory

pytest_plugins: list[str] = [
    "sandbox.pytest_plugin",
]

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Sunday morning in Beijing, a month before the sample inspection.
DEFAULT_NOW = datetime(2026, 11, 22, 9, 0, tzinfo=SHANGHAI)
UNLIMITED_FLOOD = {"burst": 1000, "per_minute": 6000, "stranger_burst": 1000,
                   "stranger_per_minute": 6000, "strangers_burst": 10000,
                   "strangers_per_minute": 60000}


async def _reset_postgres(url: str, *, drop: bool) -> None:
    engine = create_async_engine(normalise_url(url))
    async with engine.begin() as conn:
        if drop:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        else:
            import db.models  # noqa: F401

            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per run: an SQLite file to copy, or the PostgreSQL database itself."""
    if PG_URL:
        asyncio.run(_reset_postgres(PG_URL, drop=True))
        upgrade(PG_URL)
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> str:
    if PG_URL:
        asyncio.run(_reset_postgres(PG_URL, drop=False))
        return PG_URL
    target = tmp_path / "bot.db"
    shutil.copyfile(migrated_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(DEFAULT_NOW)


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> AppConfig:
    return AppConfig.model_validate(
        {
            "database": {"url": database_url},
            "storage": {"data_dir": str(tmp_path / "data")},
            "telegram": {"admin_ids": []},
            # Tests send a person's commands milliseconds apart; flood control has its own
            # tests (test_flood*.py) with the real limits.
            "flood": UNLIMITED_FLOOD,
        }
    )


@pytest.fixture
async def services(config: AppConfig, clock: FrozenClock) -> AsyncIterator[Services]:
    built = build_services(config, clock=clock)
    yield built
    await built.db.dispose()


@dataclass
class BotHarness:
    """The real Application with a recording request: feed updates, read what it sent."""

    app: AppType
    request: RecordingRequest
    updates: UpdateFactory
    services: Services

    async def process(self, update: object) -> None:
        await self.app.process_update(update)


@pytest.fixture
async def harness(config: AppConfig, services: Services) -> AsyncIterator[BotHarness]:
    request = RecordingRequest()
    app = build_application(config, services=services, request=request, updater=False)
    async with app:
        request.clear()  # forget initialize()'s getMe
        yield BotHarness(app, request, UpdateFactory(app.bot), services)


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """A real S3 server (moto, its own process) for the run; each test takes a new bucket."""
    with running_moto(tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield server


@pytest.fixture
def s3_bucket(moto: MotoServer) -> str:
    return moto.new_bucket()


@pytest.fixture(scope="session")
def demo_seeds(tmp_path_factory: pytest.TempPathFactory) -> DemoSeeds:
    """The demo's first-run database, seeded once per start date and copied per test."""
    return DemoSeeds(tmp_path_factory.mktemp("demo-seeds"))
