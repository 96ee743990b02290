"""Alembic, driven from code so no alembic.ini has to be found on disk.

Migrations run over the same async drivers as the bot (aiosqlite, asyncpg); `env.py`
bridges with `run_sync`. The history is one linear chain with a single head: a schema is
either at that head or behind it.

Alembic (and Mako under it, ~0.1 s) is imported only by what migrates or compares; the
start-up check reads the database's revision and the chain's head without it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    String,
    Table,
    UniqueConstraint,
    inspect,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import DefaultClause
from sqlalchemy.types import TypeDecorator, TypeEngine

import db.models  # noqa: F401  (registers every table the comparison looks at)
from db.base import Base
from db.session import normalise_url

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _scripts_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def alembic_config(url: str) -> Config:
    config = _scripts_config()
    config.attributes["database_url"] = normalise_url(url)
    return config


def script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_scripts_config())


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema up to `revision` (the head by default). Not for a running loop."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    from alembic import command

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


def known_revision(revision: str) -> bool:
    """Whether this code's chain has `revision` (a database from newer code has one it
    does not know)."""
    try:
        return script_directory().get_revision(revision) is not None
    except Exception:  # alembic raises its own resolution errors for unknown ids
        return False
def _revision_ids(path: Path) -> tuple[str | None, tuple[str, ...]]:
    """A revision file's `revision` and what it revises, read as literals (not run)."""
    found: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target, value = None, None
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            target, value = node.target.id, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
            node.targets[0], ast.Name
        ):
            target, value = node.targets[0].id, node.value
        if target in ("revision", "down_revision") and value is not None:
            found[target] = ast.literal_eval(value)
    down = found.get("down_revision")
    downs = (down,) if isinstance(down, str) else tuple(down or ())
    return found.get("revision"), downs


def expected_head() -> str:
    """The head of the chain, from the revision files themselves: a revision no other one
    revises. Several heads (a branched history) is an error, as in Alembic."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        revision, downs = _revision_ids(path)
        if revision is not None:
            revisions.add(revision)
            revised.update(downs)
    heads = sorted(revisions - revised)
    if not heads:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    if len(heads) > 1:
        raise RuntimeError(f"the migration history has several heads: {', '.join(heads)}")
    return heads[0]


async def schema_state(engine: AsyncEngine) -> SchemaState:
    def current(connection: Connection) -> str | None:
        if not inspect(connection).has_table("alembic_version"):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        # More than one row only in a database made while the history still had feature
        # branches; showing them all makes it "not up to date" with a readable reason.
        return " + ".join(sorted(rows)) or None

    async with engine.connect() as connection:
        revision = await connection.run_sync(current)
    return SchemaState(revision, expected_head())


def compare_type(
    context: MigrationContext,
    inspected_column: Column[Any],
    metadata_column: Column[Any],
    inspected_type: TypeEngine[Any],
    metadata_type: TypeEngine[Any],
) -> bool | None:
    """Alembic's type comparison, seeing through TypeDecorators and insisting on lengths.

    A TypeDecorator (UTCDateTime) is compared as the type it stores. Alembic lets a bare
    VARCHAR pass for VARCHAR(40) and, on its own, would miss a lost time zone on a decorated
    column; both are differences here. None hands the rest to Alembic's comparison.
    """
    stored = (
        metadata_type.load_dialect_impl(context.dialect)
        if isinstance(metadata_type, TypeDecorator)
        else metadata_type
    )
    if isinstance(stored, String) and isinstance(inspected_type, String):
        if stored.length != inspected_type.length:
            return True
    # SQLite has no timestamp-with-time-zone type, so there is nothing to compare there.
    if (
        isinstance(stored, DateTime)
        and isinstance(inspected_type, DateTime)
        and context.dialect.name != "sqlite"
        and stored.timezone != inspected_type.timezone
    ):
        return True
    if stored is not metadata_type:
        return context.impl.compare_type(inspected_column, Column(metadata_column.name, stored))
    return None


def configure_comparison(connection: Connection) -> MigrationContext:
    """The comparison autogenerate and the models-match test both use."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(
        connection,
        opts={
            "compare_type": compare_type,
            # Alembic's dialect-aware check: PostgreSQL evaluates both expressions, so
            # now() and CURRENT_TIMESTAMP are the same default.
            "compare_server_default": True,
            "target_metadata": Base.metadata,
        },
    )


def model_differences(connection: Connection) -> list[str]:
    """How the migrated schema differs from the models, one readable line per difference."""
    from alembic.autogenerate import compare_metadata

    diffs = compare_metadata(configure_comparison(connection), Base.metadata)
    return [_describe(diff) for diff in _flatten(diffs)] + _key_differences(connection)


def _flatten(diffs: list[Any]) -> list[tuple[Any, ...]]:
    # Column changes come grouped per column as a list; everything else is one tuple.
    flat: list[tuple[Any, ...]] = []
    for diff in diffs:
        flat.extend(diff if isinstance(diff, list) else [diff])
    return flat


def _describe(diff: tuple[Any, ...]) -> str:
    kind = diff[0]
    if kind.startswith("modify_"):
        _, _, table, column, _, in_database, in_models = diff
        return (
            f"{table}.{column}: {kind.removeprefix('modify_')} is {_show(in_database)} "
            f"after the migrations, {_show(in_models)} in the models"
        )
    where = (
        "is in the models but no migration creates it"
        if kind.startswith("add_")
        else "is created by the migrations but not in the models"
    )
    obj = diff[-1]
    if isinstance(obj, Table):
        return f"table {obj.name} {where}"
    if isinstance(obj, Column):
        return f"column {diff[2]}.{obj.name} ({_show(obj.type)}) {where}"
    if isinstance(obj, Index):
        unique = "unique index" if obj.unique else "index"
        return f"{unique} {obj.name} on {_columns(obj.table, obj.expressions)} {where}"
    if isinstance(obj, UniqueConstraint):
        return f"unique constraint {obj.name} on {_columns(obj.table, obj.columns)} {where}"
    if isinstance(obj, ForeignKeyConstraint):
        target = ", ".join(element.target_fullname for element in obj.elements)
        options = f" on delete {obj.ondelete}" if obj.ondelete else ""
        return (
            f"foreign key {obj.name} {_columns(obj.table, obj.columns)} → {target}{options} "
            f"{where}"
        )
    return f"{kind}: {diff[1:]!r}"


def _columns(table: Table | None, columns: Any) -> str:
    names = ", ".join(getattr(c, "name", str(c)) for c in columns)
    return f"{table.name if table is not None else '?'}({names})"


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, DefaultClause):
        return f"DEFAULT {value.arg}"
    if isinstance(value, TypeDecorator):
        return repr(value.impl)
    return repr(value)


def _key_differences(connection: Connection) -> list[str]:
    """What Alembic does not compare: primary keys, and the names of keys.

    Names matter because a later migration drops a constraint by its conventional name;
    one created under another name would make that migration fail on PostgreSQL.
    """
    inspector = inspect(connection)
    existing = set(inspector.get_table_names())
    found: list[str] = []
    for table in Base.metadata.sorted_tables:
        if table.name not in existing:
            continue  # already reported as a missing table
        reflected = inspector.get_pk_constraint(table.name)
        in_models = [c.name for c in table.primary_key.columns]
        if reflected["constrained_columns"] != in_models:
            found.append(
                f"{table.name}: primary key is ({', '.join(reflected['constrained_columns'])}) "
                f"after the migrations, ({', '.join(in_models)}) in the models"
            )
        elif reflected["name"] != table.primary_key.name:
            found.append(
                f"{table.name}: primary key is named {reflected['name']} after the "
                f"migrations, {table.primary_key.name} in the models"
            )
        reflected_fks = {
            tuple(fk["constrained_columns"]): fk["name"]
            for fk in inspector.get_foreign_keys(table.name)
        }
        for fk in table.foreign_key_constraints:
            name = reflected_fks.get(tuple(c.name for c in fk.columns))
            if name is not None and name != fk.name:
                found.append(
                    f"foreign key on {_columns(table, fk.columns)} is named {name} after "
                    f"the migrations, {fk.name} in the models"
                )
    return found
