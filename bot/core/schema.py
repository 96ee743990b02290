"""The refusal to run on a database whose schema is behind the code."""

from __future__ import annotations

from db.migrate import schema_state
from db.session import Database


class SchemaBehind(RuntimeError):
    """The database schema is older than the code: refuse to run rather than corrupt it."""


async def check_schema(db: Database) -> None:
    state = await schema_state(db.engine)
    if not state.up_to_date:
        raise SchemaBehind(
            "the database schema is not current "
            f"(database at {state.current or 'nothing'}, code expects "
            f"{state.expected}); run `inspectbot db upgrade` first"
        )
