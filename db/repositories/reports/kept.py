"""The kept tallies (`db.models.tallies`): a whole campaign's counts read from them, the
mark moved to the present, and the rows folded into one per group.

A campaign's summary reads a few thousand tally rows instead of every task; only the
tasks whose deadline lies between the campaign's mark and the time asked about are read
from `tasks` (a minute's worth, while the job runs), and they correct "late" exactly.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Campaign, Task, TaskTally, TaskTallyMark
from db.models.core import OPEN_STATUSES
from db.models.tallies import EPOCH, INDICATOR_PART, MEASURES, UNIT_PART, count_tasks_sql

LOCK_TIMEOUT = "5s"
_NOW = bindparam("now", type_=Task.__table__.c.due_at.type)
_CAMPAIGN = bindparam("campaign_id", type_=Integer())


@lru_cache(maxsize=1)
def summary_statement() -> Any:
    """One statement (one snapshot) for a campaign's counts per unit and per indicator ×
    phase: the tally rows, plus +1 late for an open task whose deadline is between the
    mark and now, or -1 for one between now and a mark ahead of it.

    Columns: part, k1, k2, then `MEASURES` summed; groups with no task are left out.
    """
    mark = (select(TaskTallyMark.mark).where(TaskTallyMark.campaign_id == _CAMPAIGN)
            .scalar_subquery())

    def deadlines(low: Any, high: Any, sign: int) -> Any:
        # A range of deadlines: a few entries of `ix_tasks_campaign_status_due`, which
        # carries the group columns so that SQLite (no statistics) prefers it to scanning
        # a covering index over the whole campaign.
        return (
            select(Task.unit_id, Task.indicator_id, Task.phase_id, literal(sign).label("late"))
            .where(Task.campaign_id == _CAMPAIGN, Task.status.in_(OPEN_STATUSES),
                   Task.due_at >= low, Task.due_at < high)
        )

    # Two plain ranges, not one OR: each is a range of `ix_tasks_campaign_status_due`.
    fix = union_all(deadlines(mark, _NOW, 1), deadlines(_NOW, mark, -1)).cte("fix")
    zero = literal(0)
    kept = select(TaskTally.part, TaskTally.k1, TaskTally.k2,
                  *(getattr(TaskTally, m) for m in MEASURES)).where(
        TaskTally.campaign_id == _CAMPAIGN)

    def corrections(part: int, k1: Any, k2: Any) -> Any:
        late = [fix.c.late if m == "late" else zero for m in MEASURES]
        return select(literal(part), k1, k2, *late)

    rows = union_all(
        kept,
        corrections(UNIT_PART, fix.c.unit_id, cast(null(), Integer)),
        corrections(INDICATOR_PART, fix.c.indicator_id, fix.c.phase_id),
    ).subquery()
    c = rows.c
    keys = (c.part, c.k1, c.k2)
    return (
        select(*keys, *(func.sum(c[m]).label(m) for m in MEASURES))
        .group_by(*keys)
        .having(func.sum(c.total) > 0)
    )


async def summary_rows(
    *, session: AsyncSession, campaign_id: int, now: datetime
) -> list[Any]:
    """Rows of `summary_statement` for one campaign as of `now`."""
    found = await session.execute(summary_statement(), {"campaign_id": campaign_id, "now": now})
    return list(found.all())


async def campaigns_with_marks(*, session: AsyncSession) -> list[int]:
    return list((await session.scalars(select(TaskTallyMark.campaign_id))).all())


async def campaigns_without_marks(*, session: AsyncSession) -> list[int]:
    """Campaigns the tallies know nothing of (only if their trigger was missing)."""
    marked = select(TaskTallyMark.campaign_id)
    found = await session.scalars(select(Campaign.id).where(Campaign.id.not_in(marked)))
    return list(found.all())


async def move_mark(*, session: AsyncSession, campaign_id: int, to: datetime) -> int:
    """Count as late, in the tallies, the open tasks whose deadline lies between the
    campaign's mark and `to` (or no longer, for a mark ahead of `to`), and set the mark to
    `to`. Returns how many tasks it moved. The caller commits.

    The UPDATE comes first: on PostgreSQL it waits for every write that read the old
    mark (they hold it shared), so the count below sees them all, and writes after it
    wait for this transaction and then read the new mark. It waits `LOCK_TIMEOUT` at
    most (a long import holds the mark), and then fails: the job tries again later.
    """
    if _dialect(session) == "postgresql":
        await session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    moved = await session.execute(
        update(TaskTallyMark).where(TaskTallyMark.campaign_id == campaign_id)
        .values(previous=TaskTallyMark.mark, mark=to)
        .returning(TaskTallyMark.previous)
    )
    previous = moved.scalar_one_or_none()
    if previous is None or previous == to:
        return 0
    low, high, sign = (previous, to, 1) if previous < to else (to, previous, -1)
    per_unit = (Task.unit_id, cast(null(), Integer))
    per_indicator = (Task.indicator_id, Task.phase_id)
    count = 0
    for part, (k1, k2) in ((UNIT_PART, per_unit), (INDICATOR_PART, per_indicator)):
        grouped = (
            select(k1, k2, func.count())
            .where(Task.campaign_id == campaign_id, Task.status.in_(OPEN_STATUSES),
                   Task.due_at >= low, Task.due_at < high)
            .group_by(k1, k2)
        )
        rows = (await session.execute(grouped)).all()
        if part == UNIT_PART:
            count = sum(n for *_, n in rows)
        if rows:
            await session.execute(insert(TaskTally), [
                {"campaign_id": campaign_id, "part": part, "k1": a, "k2": b,
                 **{m: sign * n if m == "late" else 0 for m in MEASURES}}
                for a, b, n in rows
            ])
    return count


async def tally_rows(*, session: AsyncSession, campaign_id: int) -> int:
    found = await session.execute(
        select(func.count()).select_from(TaskTally).where(TaskTally.campaign_id == campaign_id)
    )
    return int(found.scalar_one())


async def compact(*, session: AsyncSession, campaign_id: int) -> int:
    """Fold a campaign's tally rows into one per group (groups that sum to nothing go).
    Returns the rows left. The caller commits.

    The rows folded are exactly the rows deleted: on PostgreSQL one statement deletes and
    re-inserts their sums; on SQLite the write transaction has the database to itself.
    """
    sums = ", ".join(f"SUM({m})" for m in MEASURES)
    nonzero = " OR ".join(f"SUM({m}) <> 0" for m in MEASURES)
    columns = "campaign_id, part, k1, k2, " + ", ".join(MEASURES)
    params = {"campaign_id": campaign_id}
    if _dialect(session) == "postgresql":
        await session.execute(text(
            f"WITH gone AS (DELETE FROM task_tallies WHERE campaign_id = :campaign_id "
            f"RETURNING {columns}) "
            f"INSERT INTO task_tallies ({columns}) SELECT campaign_id, part, k1, k2, {sums} "
            f"FROM gone GROUP BY campaign_id, part, k1, k2 HAVING {nonzero}"
        ), params)
    else:
        # The INSERT is the transaction's first statement, so it holds the write lock
        # before it reads: every older row of the campaign is one it folded.
        new_ids = (await session.execute(text(
            f"INSERT INTO task_tallies ({columns}) SELECT campaign_id, part, k1, k2, {sums} "
            f"FROM task_tallies WHERE campaign_id = :campaign_id "
            f"GROUP BY campaign_id, part, k1, k2 HAVING {nonzero} RETURNING id"
        ), params)).scalars().all()
        older = " AND id < :first" if new_ids else ""
        await session.execute(text(
            f"DELETE FROM task_tallies WHERE campaign_id = :campaign_id{older}"
        ), params | ({"first": min(new_ids)} if new_ids else {}))
    return await tally_rows(session=session, campaign_id=campaign_id)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def rebuild(*, session: AsyncSession, campaign_id: int) -> None:
    """Count the campaign's tasks again from scratch: its rows replaced by one per group,
    its mark back at the epoch. The caller commits.

    On PostgreSQL task writes wait until the new counts are committed (readers do not);
    on SQLite the DELETE takes the write lock first.
    """
    if _dialect(session) == "postgresql":
        await session.execute(text("LOCK TABLE tasks IN SHARE MODE"))
    await session.execute(delete(TaskTally).where(TaskTally.campaign_id == campaign_id))
    reset = await session.execute(
        update(TaskTallyMark).where(TaskTallyMark.campaign_id == campaign_id)
        .values(mark=EPOCH, previous=EPOCH)
    )
    if not getattr(reset, "rowcount", 0):
        await session.execute(insert(TaskTallyMark).values(
            campaign_id=campaign_id, mark=EPOCH, previous=EPOCH))
    await session.execute(text(count_tasks_sql(one_campaign=True)),
                          {"campaign_id": campaign_id})
