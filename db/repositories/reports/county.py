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
    or_,
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
    g = summary_statement().cte("g")
    measures = [g.c[m] for m in MEASURES]
    active = g.c.total - g.c.cancelled
    name = func.coalesce(Unit.name, literal("#") + cast(g.c.k1, String))
    by_name = name.collate("C") if dialect == "postgresql" else name
    place = func.row_number().over(order_by=(
        cast(g.c.done, Float) / active, g.c.late.desc(), by_name.desc(), g.c.k1.desc()
    ))
    units = (
        select(g.c.k1, name.label("name"), place.label("place"),
               func.count().over().label("ranked"), *measures)
        .select_from(g.outerjoin(Unit, Unit.id == g.c.k1))
        .where(g.c.part == UNIT_PART, g.c.k1.is_not(None), active > 0)
        .cte("ranked_units")
    )
    none_int, none_str = cast(null(), Integer), cast(null(), String)
    shown = bindparam("shown", type_=Integer())
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
        select(literal(RANKED), units.c.k1, none_int, units.c.name, units.c.place,
               units.c.ranked, *(units.c[m] for m in MEASURES))
        .where(or_(units.c.place <= shown + 1, units.c.place == units.c.ranked)),
    )


async def ranked_rows(
    *, session: AsyncSession, campaign_id: int, now: datetime, shown: int
) -> Sequence[Any]:
    """The rows of `ranked_statement` for one campaign as of `now`."""
    statement = ranked_statement(session.get_bind().dialect.name)
    params = {"campaign_id": campaign_id, "now": now, "shown": shown}
    return (await session.execute(statement, params)).all()
