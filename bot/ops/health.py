"""/healthz: can this process do its work right now?

Four checks, each bounded in time: the database answers, its schema is the code's, the
scheduler runs (reminders, digests and bulletins hang off it), and the outbox is not
falling behind. The answer carries counts, ages and revision ids only — nothing about
anyone in the county.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import db
from bot.config import OpsConfig
from bot.core import metrics
from bot.core.clock import Clock
from bot.core.scheduler import Scheduler
from db.repositories import ops as ops_repo
from db.session import Database

VERSIONS_DIR = Path(db.__file__).with_name("migrations") / "versions"
_REVISION = re.compile(r"^revision(?:\s*:\s*str)?\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision(?:\s*:[^=]+)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


@cache
def head_revision(versions: Path = VERSIONS_DIR) -> str:
    """The head of the one linear chain, read from the revision files' own lines.

    Importing Alembic costs the start-up and every probe nothing here; the chain is linear
    (tests/db/test_schema.py), so the head is the one revision nothing revises.
    """
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in versions.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        if found := _REVISION.search(source):
            revisions.add(found.group(1))
        if down := _DOWN.search(source):
            revised.add(down.group(1))
    heads = revisions - revised
    if len(heads) != 1:
        raise RuntimeError(f"expected one head revision in {versions}, found {sorted(heads)}")
    return heads.pop()


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthReport:
    checks: tuple[Check, ...]

    @property
    def healthy(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failing(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.healthy else "failing",
            "failing": self.failing,
            "checks": {c.name: {"ok": c.ok, **c.facts} for c in self.checks},
        }


class HealthChecks:
    """The checks behind /healthz, over this process's own database and scheduler."""

    def __init__(self, *, db: Database, scheduler: Scheduler, clock: Clock,
                 config: OpsConfig) -> None:
        self._db = db
        self._scheduler = scheduler
        self._clock = clock
        self._config = config

    async def run(self) -> HealthReport:
        database = await self._bounded("database", self._database)
        scheduler = Check("scheduler", self._scheduler.running)
        if not database.ok:
            # Nothing else about the database can be known; say so rather than time out twice.
            skipped = {"checked": False, "reason": "database unreachable"}
            return _observed(HealthReport((database, Check("schema", False, skipped), scheduler,
                                           Check("outbox", False, skipped))))
        schema = await self._bounded("schema", self._schema)
        outbox = await self._bounded("outbox", self._outbox)
        return _observed(HealthReport((database, schema, scheduler, outbox)))

    async def _bounded(self, name: str, check: Callable[[], Awaitable[Check]]) -> Check:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._config.check_timeout_seconds):
                return await check()
        except TimeoutError:
            reason = "timed out"
        except Exception as exc:
            # The exception's class only: its text may carry a host name or a path.
            reason = type(exc).__name__
        return Check(name, False, {"error": reason,
                                   "seconds": round(time.perf_counter() - started, 3)})

    async def _database(self) -> Check:
        started = time.perf_counter()
        async with self._db.engine.connect() as connection:
            await ops_repo.ping(connection=connection)
        return Check("database", True, {"seconds": round(time.perf_counter() - started, 3)})

    async def _schema(self) -> Check:
        async with self._db.engine.connect() as connection:
            current = await ops_repo.schema_revision(connection=connection)
        expected = head_revision()
        return Check("schema", current == expected, {"current": current, "expected": expected})

    async def _outbox(self) -> Check:
        now = self._clock.now()
        async with self._db.engine.connect() as connection:
            backlog = await ops_repo.outbox_backlog(connection=connection, now=now)
        lag = (now - backlog.oldest_due_at).total_seconds() if backlog.oldest_due_at else 0.0
        config = self._config
        ok = lag <= config.outbox_lag_warn_seconds and not (
            config.outbox_due_warn and backlog.due > config.outbox_due_warn)
        return Check("outbox", ok, {
            "due": backlog.due, "oldest_due_seconds": round(max(lag, 0.0), 1),
            "lag_warn_seconds": config.outbox_lag_warn_seconds,
            "due_warn": config.outbox_due_warn,
        })


def _observed(report: HealthReport) -> HealthReport:
    """The checks, and the outbox's backlog, as gauges for the next scrape of /metrics."""
    for check in report.checks:
        metrics.HEALTH.labels(check.name).set(1 if check.ok else 0)
        if check.name == "outbox" and "due" in check.facts:
            metrics.OUTBOX_DUE.set(check.facts["due"])
            metrics.OUTBOX_OLDEST_DUE.set(check.facts["oldest_due_seconds"])
    return report
