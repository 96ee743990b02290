"""Every update is counted once by kind and outcome, and timed (bot.core.metrics).

Real updates through the real Application: what someone typed never becomes a label.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY, generate_latest
from sqlalchemy import text

from bot.app import build_application
from bot.config import AppConfig
from bot.core.clock import FrozenClock
from bot.services import build_services
from db.models import Role
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f
from tests.utils.telegram import RecordingRequest, UpdateFactory

ADMIN, OWNER, STRANGER = 5690001, 5690002, 5690003


def _count(kind: str, name: str, outcome: str) -> float:
    labels = {"kind": kind, "name": name, "outcome": outcome}
    return REGISTRY.get_sample_value("inspectbot_updates_total", labels) or 0.0


def _timed(kind: str) -> float:
    return REGISTRY.get_sample_value("inspectbot_update_seconds_count", {"kind": kind}) or 0.0


class Counts:
    """The counters' values now, to compare with after."""

    def __init__(self, *keys: tuple[str, str, str]) -> None:
        self.before = {k: _count(*k) for k in keys}

    def moved(self) -> dict[tuple[str, str, str], float]:
        return {k: _count(*k) - v for k, v in self.before.items()}


async def _seed(h: BotHarness) -> int:
    async with h.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        await f.person(s, "王主任", role=Role.ADMIN, telegram_id=ADMIN)
        owner = await f.person(s, "张三", unit=edu, telegram_id=OWNER)
        task = await f.task(s, c, unit=edu, owner=owner, title="完善控辍保学台账",
                            due_at=DEFAULT_NOW + timedelta(days=3))
        return task.id


async def test_each_update_is_counted_once_by_kind_and_outcome(harness: BotHarness) -> None:
    task_id = await _seed(harness)
    u = harness.updates
    owner, stranger = u.user(OWNER), u.user(STRANGER)
    keys = [("command", "tasks", "ok"), ("command", "tasks", "refused"),
            ("command", "done", "refused"), ("callback", "task:open", "ok"),
            ("callback", "other", "ok"), ("callback", "other", "refused"),
            ("command", "other", "ok"), ("message", "photo", "ok"),
            ("message", "text", "ok")]
    counts = Counts(*keys)
    timed = _timed("command")

    await harness.process(u.text(owner, "/tasks"))  # ok
    await harness.process(u.text(stranger, "/tasks"))  # the gate refuses
    await harness.process(u.text(owner, "/done 987654"))  # a domain error: no such task
    await harness.process(u.callback(owner, f"task:open:{task_id}"))
    await harness.process(u.callback(owner, "nonsense:press"))
    await harness.process(u.text(owner, "/zz_private_words_123"))  # not a command we know
    await harness.process(u.photo(owner, "photo-file-1"))
    await harness.process(u.text(owner, "随便说一句 private-words-456"))

    moved = counts.moved()
    assert moved[("command", "tasks", "ok")] == 1
    assert moved[("command", "tasks", "refused")] == 1
    assert moved[("command", "done", "refused")] == 1
    assert moved[("callback", "task:open", "ok")] == 1
    assert moved[("callback", "other", "ok")] + moved[("callback", "other", "refused")] == 1
    assert moved[("command", "other", "ok")] == 1
    assert moved[("message", "photo", "ok")] == 1
    assert moved[("message", "text", "ok")] == 1
    assert _timed("command") - timed == 4
    exposition = generate_latest(REGISTRY).decode()
    assert "private_words" not in exposition and "private-words" not in exposition
    assert str(OWNER) not in exposition and str(STRANGER) not in exposition


async def test_a_fault_is_counted_as_an_error(harness: BotHarness) -> None:
    await _seed(harness)
    u = harness.updates
    async with harness.services.session() as s:
        # A real fault: the table the command reads is gone.
        await s.execute(text("ALTER TABLE tasks RENAME TO tasks_moved_away"))
    counts = Counts(("command", "tasks", "error"), ("command", "tasks", "ok"))
    try:
        await harness.process(u.text(u.user(OWNER), "/tasks"))
    finally:
        # PostgreSQL's test database outlives this test (SQLite's is a copy per test).
        async with harness.services.session() as s:
            await s.execute(text("ALTER TABLE tasks_moved_away RENAME TO tasks"))

    assert counts.moved() == {("command", "tasks", "error"): 1, ("command", "tasks", "ok"): 0}


@pytest.fixture
async def strict_harness(config: AppConfig, clock: FrozenClock) -> AsyncIterator[BotHarness]:
    """The real flood limits' shape, tight: one update at once, one a minute."""
    flood = config.flood.model_copy(update={"burst": 1, "per_minute": 1})
    strict = config.model_copy(update={"flood": flood})
    services = build_services(strict, clock=clock)
    request = RecordingRequest()
    app = build_application(strict, services=services, request=request, updater=False)
    async with app:
        request.clear()
        yield BotHarness(app, request, UpdateFactory(app.bot), services)
    await services.db.dispose()


async def test_an_update_over_budget_is_counted_as_flood_dropped(
    strict_harness: BotHarness,
) -> None:
    await _seed(strict_harness)
    u = strict_harness.updates
    owner = u.user(OWNER)
    # The first update finds the sender linked; from then on their own budget applies.
    await strict_harness.process(u.text(owner, "/help"))
    counts = Counts(("command", "tasks", "ok"), ("command", "tasks", "flood-dropped"))

    for _ in range(3):
        await strict_harness.process(u.text(owner, "/tasks"))

    assert counts.moved() == {("command", "tasks", "ok"): 1,
                              ("command", "tasks", "flood-dropped"): 2}
