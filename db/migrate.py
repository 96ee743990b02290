"""Alembic, driven from code so no alembic.ini has to be found on disk.

Migrations run over the same async drivers as the bot (aiosqlite, asyncpg); `env.py`
bridges with `run_sync`.
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


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = normalise_url(url)
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the schema up to `revision` (all heads by default). Not for a running loop."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


@dataclass(frozen=True)
class SchemaState:
    current: frozenset[str]
    expected: frozenset[str]

    @property
    def up_to_date(self) -> bool:
        return self.current == self.expected

    @property
    def empty(self) -> bool:
        return not self.current


def expected_heads() -> frozenset[str]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


async def schema_state(engine: AsyncEngine) -> SchemaState:
    def current(connection: Connection) -> frozenset[str]:
        return frozenset(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as connection:
        heads = await connection.run_sync(current)
    return SchemaState(heads, expected_heads())
