"""Alembic, driven from code so no alembic.ini has to be found on disk.

Migrations run over the same async drivers as the bot (aiosqlite, asyncpg); `env.py`
bridges with `run_sync`. The history is one linear chain with a single head: a schema is
either at that head or behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.session import normalise_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _scripts_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def alembic_config(url: str) -> Config:
    config = _scripts_config()
    config.attributes["database_url"] = normalise_url(url)
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(_scripts_config())


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema up to `revision` (the head by default). Not for a running loop."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


@dataclass(frozen=True)
class SchemaState:
    """Where the database is (`None`: never migrated) and where the code expects it."""

    current: str | None
    expected: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.expected

    @property
    def empty(self) -> bool:
        return self.current is None


def expected_head() -> str:
    """The head of the chain; Alembic refuses (CommandError) if the history has branched."""
    head = script_directory().get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


async def schema_state(engine: AsyncEngine) -> SchemaState:
    def current(connection: Connection) -> str | None:
        rows = MigrationContext.configure(connection).get_current_heads()
        # More than one row only in a database made while the history still had feature
        # branches; showing them all makes it "not up to date" with a readable reason.
        return " + ".join(sorted(rows)) or None

    async with engine.connect() as connection:
        revision = await connection.run_sync(current)
    return SchemaState(revision, expected_head())

