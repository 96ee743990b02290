"""The whole campaign's summary counts with its units ranked by the database.

A county has about 2,000 units and the summary names ten of them, the least complete. Read
from the kept tallies (`db.repositories.reports.kept`), the units are ranked in the same
statement and only what the summary shows comes back: the ten, the next one and the most
complete one (whose completion bounds the rest), the sum over every unit, and the
indicator × phase rows. Ranked in Python, the same summary read 2,000 rows and 2,000 names
and sorted them, three quarters of its time.

The order is `bot.reports.summary.rank_units`'s, reversed: completion (done ÷ tasks not
cancelled, a double on both databases), then more overdue, then the name, then the id;
names compare by code point, as Python compares them (SQLite's BINARY collation does;
on PostgreSQL the column is compared as "C").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    String,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Unit
from db.models.tallies import INDICATOR_PART, MEASURES, UNIT_PART
from db.repositories.reports.kept import summary_statement

# Row kinds of `ranked_statement`.
SUMS, INDICATORS, PHASES, RANKED = 0, 1, 2, 3


@cache
def ranked_statement(dialect: str) -> Any:
    """Columns: kind, k1, k2, name, place, ranked, then `MEASURES`.

    - kind `SUMS`: one row, every unit's counts summed (None when the campaign is empty);
    - kinds `INDICATORS` and `PHASES`: the indicator × phase rows summed per indicator
      and per phase (both in k1), a few dozen rows instead of a few hundred;
    - kind `RANKED`: a unit (k1, its name) at `place` from the least complete (1) of the
      `ranked` units with something to do: places 1 to `shown` + 1 and the last place.
    """
    # The order is computed twice, over all the units for the first `shown` + 1 and then
    # over those few to number them; both are the same total order (ties end at the id).
    g = summary_statement().cte("g")
    measures = [g.c[m] for m in MEASURES]
    active = g.c.total - g.c.cancelled
    name = func.coalesce(Unit.name, literal("#") + cast(g.c.k1, String))
    units = (
        select(g.c.k1, name.label("name"), (cast(g.c.done, Float) / active).label("ratio"),
               *measures)
        .select_from(g.outerjoin(Unit, Unit.id == g.c.k1))
        .where(g.c.part == UNIT_PART, g.c.k1.is_not(None), active > 0)
        .cte("units_to_rank")
    )
    u = units.c
    by_name = u.name.collate("C") if dialect == "postgresql" else u.name

    def least_complete_first(reverse: bool) -> tuple[Any, ...]:
        if reverse:
            return (u.ratio.desc(), u.late, by_name, u.k1)
        return (u.ratio, u.late.desc(), by_name.desc(), u.k1.desc())

    ranked = select(func.count()).select_from(units).scalar_subquery()
    shown = bindparam("shown", type_=Integer())
    # The first `shown` + 1 by a bounded sort, and the last one: SQLite numbering all
    # 2,000 units with a window was 5 of the statement's 14 ms at 10,000 tasks.
    first = (select(u.k1, u.name, *(u[m] for m in MEASURES))
             .order_by(*least_complete_first(False)).limit(shown + 1).subquery())
    last = (select(u.k1, u.name, *(u[m] for m in MEASURES))
            .order_by(*least_complete_first(True)).limit(1).subquery())
    f = first.c
    key_of_first = (
        cast(f.done, Float) / (f.total - f.cancelled), f.late.desc(),
        (f.name.collate("C") if dialect == "postgresql" else f.name).desc(), f.k1.desc(),
    )
    none_int, none_str = cast(null(), Integer), cast(null(), String)
    return union_all(
        select(literal(SUMS), none_int, none_int, none_str, none_int, none_int,
               *(func.sum(c) for c in measures))
        .where(g.c.part == UNIT_PART),
        select(literal(INDICATORS), g.c.k1, none_int, none_str, none_int, none_int,
               *(func.sum(c) for c in measures))
        .where(g.c.part == INDICATOR_PART).group_by(g.c.k1),
        select(literal(PHASES), g.c.k2, none_int, none_str, none_int, none_int,
               *(func.sum(c) for c in measures))
        .where(g.c.part == INDICATOR_PART).group_by(g.c.k2),
        select(literal(RANKED), f.k1, none_int, f.name,
               func.row_number().over(order_by=key_of_first), ranked,
               *(f[m] for m in MEASURES)),
        # The last place, unless it is among the first already.
        select(literal(RANKED), last.c.k1, none_int, last.c.name, ranked, ranked,
               *(last.c[m] for m in MEASURES))
        .where(ranked > shown + 1),
    )


async def ranked_rows(
    *, session: AsyncSession, campaign_id: int, now: datetime, shown: int
) -> Sequence[Any]:
    """The rows of `ranked_statement` for one campaign as of `now`."""
    statement = ranked_statement(session.get_bind().dialect.name)
    params = {"campaign_id": campaign_id, "now": now, "shown": shown}
    return (await session.execute(statement, params)).all()
