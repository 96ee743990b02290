"""The database side of a backup: a consistent copy while the bot runs, and putting one back.

SQLite uses its online backup API (`sqlite3.Connection.backup`): the copy is one
consistent snapshot even while the bot writes (WAL readers never block the writer).
PostgreSQL uses `pg_dump --format=custom` (one transaction, hence one snapshot) and
`pg_restore`, which must be on PATH; the password goes to them in the environment, never
on a command line another user could read in `ps`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

import db.models  # noqa: F401  (registers every table counted below)
from db.base import Base
from db.models import Evidence, PendingImport
from db.session import normalise_url

PG_TOOLS = ("pg_dump", "pg_restore")


class ToolMissing(RuntimeError):
    """pg_dump or pg_restore is not on PATH."""


class ToolFailed(RuntimeError):
    """pg_dump or pg_restore ran and failed; the message is its own."""


@dataclass(frozen=True)
class Facts:
    """What a database holds, for the manifest and for checking a restore."""

    revision: str | None
    counts: dict[str, int]
    evidence_hashes: frozenset[str]

    @property
    def empty(self) -> bool:
        return not any(self.counts.values())


def dialect_of(url: str) -> str:
    return make_url(url).get_backend_name()


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError("a backup needs an SQLite database file, not an in-memory one")
    return Path(database)


async def facts(url: str) -> Facts:
    """Schema revision, rows per table and the evidence hashes referenced."""
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_facts)
    finally:
        await engine.dispose()


def _facts(connection: Connection) -> Facts:
    existing = set(inspect(connection).get_table_names())
    revision = None
    if "alembic_version" in existing:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    counts = {
        table.name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
        for table in Base.metadata.sorted_tables if table.name in existing
    }
    hashes: frozenset[str] = frozenset()
    if Evidence.__tablename__ in existing:
        hashes = frozenset(connection.execute(select(Evidence.sha256).distinct()).scalars())
    return Facts(revision, counts, hashes)


async def point_imports_at(url: str, directory: Path) -> int:
    """Kept import files were restored into `directory`: the rows say so; how many."""
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.begin() as connection:
            rows = (await connection.execute(
                select(PendingImport.id, PendingImport.stored_path))).all()
            for row_id, stored in rows:
                await connection.execute(
                    update(PendingImport).where(PendingImport.id == row_id)
                    .values(stored_path=str(directory / Path(stored).name)))
            return len(rows)
    finally:
        await engine.dispose()


# SQLite ---------------------------------------------------------------------------------

def sqlite_snapshot(url: str, target: Path) -> None:
    """A consistent copy of the live database file into `target` (a new file)."""
    source = sqlite3.connect(f"file:{sqlite_path(url)}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            # One self-contained file: no -wal beside it to forget.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    finally:
        source.close()


def sqlite_restore(source: Path, url: str) -> None:
    """Replace the database at `url` with the copy in `source`, page by page through
    SQLite itself, so the target's WAL and any open reader stay consistent."""
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    copy = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(path)
        try:
            copy.backup(target)
        finally:
            target.close()
    finally:
        copy.close()


def sqlite_check(path: Path) -> str:
    """SQLite's own verdict on a copy: 'ok' or what is wrong."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


# PostgreSQL -----------------------------------------------------------------------------

def pg_tools_missing() -> list[str]:
    return [tool for tool in PG_TOOLS if shutil.which(tool) is None]


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URL without the password, and the environment carrying it."""
    parsed: URL = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
        parsed = parsed.set(password=None)
    return parsed.render_as_string(hide_password=False), env


def _run(arguments: Sequence[str], env: dict[str, str]) -> None:
    missing = pg_tools_missing()
    if missing:
        raise ToolMissing(", ".join(missing))
    done = subprocess.run(list(arguments), env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ToolFailed(done.stderr.strip() or f"{arguments[0]} exited {done.returncode}")


def pg_dump(url: str, target: Path, snapshot: str | None = None) -> None:
    dsn, env = _libpq(url)
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
          *([f"--snapshot={snapshot}"] if snapshot else []),
          f"--file={target}", f"--dbname={dsn}"], env)


async def pg_dump_consistent(url: str, target: Path) -> Facts:
    """pg_dump and the manifest's facts from one snapshot: a REPEATABLE READ transaction
    exports its snapshot, counts in it, and pg_dump reads the same snapshot while the
    transaction stays open, so the counts describe exactly the rows in the dump."""
    missing = pg_tools_missing()
    if missing:
        raise ToolMissing(", ".join(missing))
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                snapshot = (await connection.execute(
                    text("SELECT pg_export_snapshot()"))).scalar_one()
                found = await connection.run_sync(_facts)
                await asyncio.to_thread(pg_dump, url, target, str(snapshot))
        return found
    finally:
        await engine.dispose()


def pg_restore(source: Path, url: str) -> None:
    dsn, env = _libpq(url)
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
          "--single-transaction", f"--dbname={dsn}", str(source)], env)


async def pg_drop_all(url: str) -> None:
    """Empty the database's own schema for a forced restore: every table and every
    function (the tallies' triggers call functions), whichever revision created them, so
    the restored schema meets nothing of the old one."""
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.begin() as connection:
            names = (await connection.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            ))).scalars().all()
            for name in names:
                await connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
            functions = (await connection.execute(text(
                "SELECT p.oid::regprocedure::text FROM pg_proc AS p "
                "JOIN pg_namespace AS n ON n.oid = p.pronamespace "
                "WHERE n.nspname = current_schema() AND p.prokind = 'f'"
            ))).scalars().all()
            for function in functions:
                await connection.execute(text(f"DROP FUNCTION IF EXISTS {function} CASCADE"))
    finally:
        await engine.dispose()
