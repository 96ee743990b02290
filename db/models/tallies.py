"""Counts of each campaign's tasks that the database keeps as the tasks change.

`task_tallies` holds signed rows: a group (per unit, part 0, `k1` = the unit; per
indicator × phase, part 1, `k1` = the indicator, `k2` = the phase) counts what the sums of
its rows say. Triggers on `tasks` append the old row's counts negated and the new row's
counts whenever a counted column changes, whatever wrote it (the ORM, a bulk import, a
set-based update), so the counts are exact after every commit. Only appends: two
people's updates never wait for each other's row, and nothing can deadlock on a tally.
A job folds the rows into one per group now and then (`db.repositories.reports.kept`).

"Overdue" moves with the clock, not with writes. A task counts as late in the tallies
when it is open and its deadline is before its campaign's mark (`task_tally_marks`); a
minute job moves the mark to the present, adding the tasks whose deadline it passed, and
a summary corrects exactly for the few deadlines between the mark and the time it asks
about. On PostgreSQL a trigger holds a share lock on the campaign's mark until its
transaction ends, and the job takes the mark's row before it counts: no write can slip
between the count and the new mark. SQLite has one writer at a time anyway.

A migration that rebuilds `tasks` (SQLite's batch mode copies the table) loses the
triggers; it must call `install_triggers` again. `tests/db/test_task_tallies.py` checks
that the migrated schema has them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.schema import MetaData

from db.base import Base
from db.models.core import OPEN_STATUSES, TaskStatus

# The mark of a campaign nobody has moved yet: every deadline is after it, so nothing is
# late in the tallies and a summary counts every late task itself.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UNIT_PART, INDICATOR_PART = 0, 1
MEASURES = ("total", "done", "cancelled", "blocked", "late", "undated", "progress")


class TaskTally(Base):
    """One signed contribution to a group's counts (see the module's text)."""

    __tablename__ = "task_tallies"
    __table_args__ = (Index("ix_task_tallies_campaign_id", "campaign_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: rows are written while a campaign's tasks are deleted with it, and
    # removed with the campaign by a trigger of their own.
    campaign_id: Mapped[int] = mapped_column(Integer)
    part: Mapped[int] = mapped_column(SmallInteger)
    k1: Mapped[int | None] = mapped_column(Integer)
    k2: Mapped[int | None] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[int] = mapped_column(Integer)
    blocked: Mapped[int] = mapped_column(Integer)
    late: Mapped[int] = mapped_column(Integer)  # open, deadline before the campaign's mark
    undated: Mapped[int] = mapped_column(Integer)  # open, no deadline
    progress: Mapped[int] = mapped_column(Integer)  # a done task 100, an open one its own


class TaskTallyMark(Base):
    """Up to when the tallies count late tasks, per campaign; `previous` is the mark
    before the last move (the job reads it back from the same UPDATE)."""

    __tablename__ = "task_tally_marks"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    mark: Mapped[datetime] = mapped_column()
    previous: Mapped[datetime] = mapped_column()


# Triggers ------------------------------------------------------------------------------

_COUNTED = ("campaign_id", "unit_id", "indicator_id", "phase_id", "status", "due_at", "progress")
_OPEN = "({row}.status IN (" + ", ".join(f"'{s.value}'" for s in OPEN_STATUSES) + "))"
_DONE, _CANCELLED, _BLOCKED = (f"'{s.value}'" for s in (TaskStatus.DONE, TaskStatus.CANCELLED,
                                                       TaskStatus.BLOCKED))


def _values(row: str, sign: str) -> str:
    """The counts one task row adds (sign '') or takes away (sign '-'), mark `m.mark`."""
    is_open = _OPEN.format(row=row)
    return ", ".join(f"{value} AS {name}" for value, name in zip((
        f"{sign}1",
        f"{sign}(CASE WHEN {row}.status = {_DONE} THEN 1 ELSE 0 END)",
        f"{sign}(CASE WHEN {row}.status = {_CANCELLED} THEN 1 ELSE 0 END)",
        f"{sign}(CASE WHEN {row}.status = {_BLOCKED} THEN 1 ELSE 0 END)",
        f"{sign}(CASE WHEN {is_open} AND {row}.due_at < m.mark THEN 1 ELSE 0 END)",
        f"{sign}(CASE WHEN {is_open} AND {row}.due_at IS NULL THEN 1 ELSE 0 END)",
        f"{sign}(CASE WHEN {row}.status = {_DONE} THEN 100 "
        f"WHEN {is_open} THEN {row}.progress ELSE 0 END)",
    ), MEASURES, strict=True))


def _append(row: str, sign: str) -> str:
    """One INSERT of a task row's two contributions (per unit, per indicator × phase);
    a campaign without a mark (being deleted) gets none."""
    columns = "campaign_id, part, k1, k2, " + ", ".join(MEASURES)
    values = _values(row, sign)
    mark = f"FROM task_tally_marks AS m WHERE m.campaign_id = {row}.campaign_id"
    return (
        f"INSERT INTO task_tallies ({columns}) "
        f"SELECT {row}.campaign_id, {UNIT_PART}, {row}.unit_id, NULL, {values} {mark} "
        f"UNION ALL "
        f"SELECT {row}.campaign_id, {INDICATOR_PART}, {row}.indicator_id, {row}.phase_id, "
        f"{values} {mark}"
    )


def _changed(distinct: str) -> str:
    return " OR ".join(f"OLD.{c} {distinct} NEW.{c}" for c in _COUNTED)


TRIGGERS = ("task_tallies_insert", "task_tallies_delete", "task_tallies_update",
            "task_tallies_campaign_new", "task_tallies_campaign_gone")


def _epoch(dialect: str) -> str:
    if dialect == "sqlite":
        return "'1970-01-01 00:00:00.000000'"
    return "TIMESTAMPTZ '1970-01-01 00:00:00+00'"


def _sqlite() -> list[str]:
    epoch = _epoch("sqlite")
    counted = ", ".join(_COUNTED)
    return [
        f"CREATE TRIGGER task_tallies_insert AFTER INSERT ON tasks "
        f"BEGIN {_append('NEW', '')}; END",
        f"CREATE TRIGGER task_tallies_delete AFTER DELETE ON tasks "
        f"BEGIN {_append('OLD', '-')}; END",
        f"CREATE TRIGGER task_tallies_update AFTER UPDATE OF {counted} ON tasks "
        f"WHEN {_changed('IS NOT')} "
        f"BEGIN {_append('OLD', '-')}; {_append('NEW', '')}; END",
        f"CREATE TRIGGER task_tallies_campaign_new AFTER INSERT ON campaigns BEGIN "
        f"INSERT INTO task_tally_marks (campaign_id, mark, previous) "
        f"VALUES (NEW.id, {epoch}, {epoch}); END",
        "CREATE TRIGGER task_tallies_campaign_gone AFTER DELETE ON campaigns BEGIN "
        "DELETE FROM task_tallies WHERE campaign_id = OLD.id; END",
    ]


def _postgresql() -> list[str]:
    epoch = _epoch("postgresql")
    counted = ", ".join(_COUNTED)
    share = "PERFORM 1 FROM task_tally_marks WHERE campaign_id = {row}.campaign_id FOR SHARE"
    return [
        "CREATE OR REPLACE FUNCTION task_tallies_follow() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {share.format(row='OLD')}; {_append('OLD', '-')}; END IF; "
        f"IF TG_OP <> 'DELETE' THEN {share.format(row='NEW')}; {_append('NEW', '')}; END IF; "
        "RETURN NULL; END $$",
        "CREATE OR REPLACE FUNCTION task_tallies_campaign_new() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO task_tally_marks (campaign_id, mark, previous) "
        f"VALUES (NEW.id, {epoch}, {epoch}); RETURN NULL; END $$",
        "CREATE OR REPLACE FUNCTION task_tallies_campaign_gone() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "DELETE FROM task_tallies WHERE campaign_id = OLD.id; RETURN NULL; END $$",
        "CREATE TRIGGER task_tallies_insert AFTER INSERT ON tasks "
        "FOR EACH ROW EXECUTE FUNCTION task_tallies_follow()",
        "CREATE TRIGGER task_tallies_delete AFTER DELETE ON tasks "
        "FOR EACH ROW EXECUTE FUNCTION task_tallies_follow()",
        f"CREATE TRIGGER task_tallies_update AFTER UPDATE OF {counted} ON tasks "
        f"FOR EACH ROW WHEN ({_changed('IS DISTINCT FROM')}) "
        "EXECUTE FUNCTION task_tallies_follow()",
        "CREATE TRIGGER task_tallies_campaign_new AFTER INSERT ON campaigns "
        "FOR EACH ROW EXECUTE FUNCTION task_tallies_campaign_new()",
        "CREATE TRIGGER task_tallies_campaign_gone AFTER DELETE ON campaigns "
        "FOR EACH ROW EXECUTE FUNCTION task_tallies_campaign_gone()",
    ]


def _statements(dialect: str) -> list[str]:
    """The trigger DDL for the two databases the bot runs on (`db.session`)."""
    builders = {"sqlite": _sqlite, "postgresql": _postgresql}
    if dialect not in builders:
        raise ValueError(f"the bot runs on SQLite or PostgreSQL, not {dialect}")
    return builders[dialect]()


def install_triggers(connection: Connection) -> None:
    """(Re)create the triggers that keep the tallies and the marks."""
    drop_triggers(connection)
    for statement in _statements(connection.dialect.name):
        connection.exec_driver_sql(statement)


def drop_triggers(connection: Connection) -> None:
    for name, table in zip(TRIGGERS, ("tasks",) * 3 + ("campaigns",) * 2, strict=True):
        suffix = f" ON {table}" if connection.dialect.name == "postgresql" else ""
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}{suffix}")
    if connection.dialect.name == "postgresql":
        for function in ("task_tallies_follow", "task_tallies_campaign_new",
                         "task_tallies_campaign_gone"):
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}()")


def count_tasks_sql(*, one_campaign: bool) -> str:
    """INSERT the counts of the tasks as they are, one row per group, against each
    campaign's mark; of every campaign, or of `:campaign_id` only."""
    columns = "campaign_id, part, k1, k2, " + ", ".join(MEASURES)
    sums = ", ".join(f"SUM({name})" for name in MEASURES)
    values = _values("t", "")
    where = " WHERE t.campaign_id = :campaign_id" if one_campaign else ""
    source = f"FROM tasks AS t JOIN task_tally_marks AS m ON m.campaign_id = t.campaign_id{where}"
    return (
        f"INSERT INTO task_tallies ({columns}) "
        f"SELECT campaign_id, part, k1, k2, {sums} FROM ("
        f"SELECT t.campaign_id, {UNIT_PART} AS part, t.unit_id AS k1, "
        f"CAST(NULL AS INTEGER) AS k2, {values} {source} "
        f"UNION ALL "
        f"SELECT t.campaign_id, {INDICATOR_PART}, t.indicator_id, t.phase_id, {values} {source}"
        f") AS counted "
        f"GROUP BY campaign_id, part, k1, k2"
    )


def backfill(connection: Connection) -> None:
    """Marks for the campaigns there are and the counts of the tasks there are (a
    migration's step; a new database has neither)."""
    epoch = _epoch(connection.dialect.name)
    connection.exec_driver_sql(
        "INSERT INTO task_tally_marks (campaign_id, mark, previous) "
        f"SELECT id, {epoch}, {epoch} FROM campaigns"
    )
    connection.exec_driver_sql(count_tasks_sql(one_campaign=False))


def _after_create(metadata: MetaData, connection: Connection, **_: object) -> None:
    # `create_all` (tests' and benchmarks' schemas) gets the triggers the migrations make.
    if {"tasks", "campaigns", "task_tallies", "task_tally_marks"} <= set(metadata.tables):
        install_triggers(connection)


event.listen(Base.metadata, "after_create", _after_create)
