"""Declarative base and column types shared by every model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, MetaData, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTCDateTime column")
    return value if value.tzinfo is UTC else value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant stored in UTC and always read back timezone-aware.

    SQLite has no time zone support and hands back naive values; normalising at the
    column keeps every comparison in the code between aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = _in_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def bind_processor(self, dialect: Dialect) -> Any:
        """On SQLite, the stored text in one step: what `process_bind_param` and SQLite's
        `DATETIME` do in two (its format, with the microseconds always written), at a third
        of their cost. A sweep binds hundreds of thousands of instants."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            # "YYYY-MM-DD HH:MM:SS.ffffff+00:00" without its offset.
            return _in_utc(value).isoformat(" ", "microseconds")[:26]

        return process

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        """On SQLite, the stored text read in one step (as `process_result_value` reads it)."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        fromisoformat = datetime.fromisoformat

        def process(value: Any) -> datetime | None:
            if isinstance(value, str):
                found = fromisoformat(value)
                if found.tzinfo is None:
                    return found.replace(tzinfo=UTC)
                return found.astimezone(UTC)
            return self.process_result_value(value, dialect)

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # Raw SQL paths on SQLite return text; the drivers return datetimes.
        found = datetime.fromisoformat(value) if isinstance(value, str) else value
        if not isinstance(found, datetime):
            raise TypeError(f"not a datetime from the database: {value!r}")
        if found.tzinfo is None:
            return found.replace(tzinfo=UTC)
        return found if found.tzinfo is UTC else found.astimezone(UTC)


class StringList(TypeDecorator[list[str]]):
    """A short list of names (a task's required evidence), stored as a JSON array in TEXT.

    Read and written whole, never queried by element, so a join table would buy nothing.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps([str(item) for item in value], ensure_ascii=False)

    def process_result_value(self, value: Any, dialect: Dialect) -> list[str] | None:
        if value is None:
            return None
        if value == "[]":
            return []  # nearly every task: not worth a JSON parse each
        found = json.loads(value) if isinstance(value, str) and value else []
        return [str(item) for item in found] if isinstance(found, list) else []


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}
