"""The migrations build exactly the schema the models describe (SQLite and PostgreSQL).

Compared: tables, columns, types (a TypeDecorator by the type it stores), nullability,
server defaults, indexes, unique constraints, foreign keys with their ON DELETE, and
primary keys and key names. Deliberately not compared, see `db.migrate.compare_type`:
the time zone flag of a timestamp on SQLite, which has no such type; Python-side
`default=` values, which never reach the schema; and the values of our enums, stored as
VARCHAR(20) with no CHECK constraint, so the database has nothing to compare with.
"""

from __future__ import annotations

import pytest

from bot.services import Services
from db.migrate import model_differences


async def test_the_migrated_schema_matches_the_models(services: Services) -> None:
    async with services.db.engine.connect() as connection:
        differences = await connection.run_sync(model_differences)
    if differences:
        pytest.fail(
            "the models and the migrations disagree; write a migration (or fix one that "
            "was never deployed):\n  " + "\n  ".join(differences),
            pytrace=False,
        )
