"""The summary's one aggregate against a brute-force count over random campaigns.

Random units, indicators, phases, owners, statuses, deadlines (none, past, future, exactly
now) and progress, read by a random scope (the whole county, some units with one owner's
tasks besides, one owner, nobody); every unit's, indicator's and phase's counts must be
what counting the task rows one by one in Python gives.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert

from db.models import Campaign, Indicator, Person, Phase, Task, TaskStatus, Unit
from db.models.core import OPEN_STATUSES
from db.repositories import reports as reports_repo
from db.repositories.reports import EVERYTHING, Tally, TaskScope
from db.session import Database
from tests.conftest import DEFAULT_NOW

NOW = DEFAULT_NOW
UNITS, INDICATORS, PHASES, PEOPLE = 6, 4, 3, 5
DUE = st.one_of(
    st.none(), st.just(NOW),
    st.integers(-20 * 24 * 60, 20 * 24 * 60).map(lambda m: NOW + timedelta(minutes=m)),
)
TASK = st.fixed_dictionaries({
    "unit_id": st.integers(1, UNITS),
    "indicator_id": st.one_of(st.none(), st.integers(1, INDICATORS)),
    "phase_id": st.one_of(st.none(), st.integers(1, PHASES)),
    "owner_id": st.one_of(st.none(), st.integers(1, PEOPLE)),
    "status": st.sampled_from(list(TaskStatus)),
    "due_at": DUE,
    "progress": st.sampled_from([0, 10, 25, 50, 75, 90, 100]),
})
SCOPE = st.one_of(
    st.just(EVERYTHING),
    st.builds(TaskScope, unit_ids=st.frozensets(st.integers(1, UNITS)),
              owner_id=st.one_of(st.none(), st.integers(1, PEOPLE))),
)


def _brute(tasks: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any], *,
           now: datetime = NOW) -> dict[Any, Tally]:
    """Counts per group, one task at a time, as the summary defines them at `now`."""
    acc: dict[Any, list[int]] = defaultdict(lambda: [0] * 7)
    for t in tasks:
        row = acc[key(t)]
        status, is_open = t["status"], t["status"] in OPEN_STATUSES
        row[0] += 1
        row[1] += status is TaskStatus.DONE
        row[2] += status is TaskStatus.CANCELLED
        row[3] += status is TaskStatus.BLOCKED
        row[4] += is_open and t["due_at"] is not None and t["due_at"] < now
        row[5] += is_open and t["due_at"] is None
        row[6] += 100 if status is TaskStatus.DONE else t["progress"] if is_open else 0
    return {k: Tally(k, *v) for k, v in acc.items()}


def _in_scope(task: dict[str, Any], scope: TaskScope) -> bool:
    return scope.everything or task["unit_id"] in scope.unit_ids or (
        scope.owner_id is not None and task["owner_id"] == scope.owner_id
    )


async def _seed(url: str) -> None:
    db = Database(url)
    async with db.session() as s:
        s.add(Campaign(id=1, name="甲", timezone="Asia/Shanghai", is_active=True))
        s.add(Campaign(id=2, name="乙", timezone="Asia/Shanghai", is_active=False))
        await s.flush()
        await s.execute(insert(Unit), [{"id": u, "name": f"单位{u}", "kind": "school",
                                        "parent_id": None if u == 1 else 1}
                                       for u in range(1, UNITS + 1)])
        await s.execute(insert(Person), [{"id": p, "name": f"人{p}", "role": "responsible",
                                          "language": "zh", "is_active": True}
                                         for p in range(1, PEOPLE + 1)])
        await s.execute(insert(Indicator), [{"id": i, "code": f"I{i}", "name": f"指标{i}",
                                             "veto": i % 2 == 0, "description": ""}
                                            for i in range(1, INDICATORS + 1)])
        await s.execute(insert(Phase), [{"id": p, "campaign_id": 1, "name": f"阶段{p}",
                                         "position": p} for p in range(1, PHASES + 1)])
        await s.commit()
    await db.dispose()


async def _counted(url: str, tasks: list[dict[str, Any]], other: list[dict[str, Any]],
                   scope: TaskScope) -> reports_repo.SummaryTallies:
    # A database per example: each runs in its own event loop (asyncpg's connections
    # belong to the loop that opened them).
    db = Database(url)
    try:
        return await _count(db, tasks, other, scope)
    finally:
        await db.dispose()


async def _count(db: Database, tasks: list[dict[str, Any]], other: list[dict[str, Any]],
                 scope: TaskScope) -> reports_repo.SummaryTallies:
    async with db.session() as s:
        await s.execute(delete(Task))
        rows = [{**t, "campaign_id": 1} for t in tasks] + [{**t, "campaign_id": 2} for t in other]
        if rows:
            await s.execute(insert(Task), [
                {**row, "id": n, "key": f"k{n}", "title": f"任务{n}"}
                for n, row in enumerate(rows, start=1)
            ])
        counted = await reports_repo.summary_tallies(session=s, campaign_id=1, scope=scope,
                                                     now=NOW)
        await s.commit()
        return counted


def test_the_aggregate_equals_counting_task_by_task(database_url: str) -> None:
    asyncio.run(_seed(database_url))

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(tasks=st.lists(TASK, max_size=40), other=st.lists(TASK, max_size=5), scope=SCOPE)
    def check(tasks: list[dict[str, Any]], other: list[dict[str, Any]], scope: TaskScope) -> None:
        counted = asyncio.run(_counted(database_url, tasks, other, scope))
        seen = [t for t in tasks if _in_scope(t, scope)]
        assert {t.key: t for t in counted.by_unit} == _brute(seen, lambda t: t["unit_id"])
        assert {t.key: t for t in counted.by_indicator} == _brute(
            seen, lambda t: t["indicator_id"])
        assert {t.key: t for t in counted.by_phase} == _brute(seen, lambda t: t["phase_id"])

    check()
