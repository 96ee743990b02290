"""Small builders for indicator tests: school records from plain numbers."""

from __future__ import annotations

from collections.abc import Mapping

from bot.indicators.library import StandardLibrary, load_library
from bot.indicators.numbers import Number
from bot.indicators.records import Level, SchoolRecord, make_record

_LIBRARY: StandardLibrary | None = None


def library() -> StandardLibrary:
    global _LIBRARY
    if _LIBRARY is None:
        _LIBRARY = load_library()
    return _LIBRARY


def school(school_id: str, students: int, level: Level = Level.PRIMARY, year: int = 2024,
           name: str | None = None, resources: Mapping[str, Number] | None = None,
           **more: Number) -> SchoolRecord:
    """A record; figures come as `resources` or as keywords (books=279)."""
    return make_record(school_id=school_id, name=name or school_id, level=level, year=year,
                       students=students, resources={**(resources or {}), **more})


def schools(level: Level, rows: Mapping[str, tuple[int, Mapping[str, Number]]],
            year: int = 2024) -> list[SchoolRecord]:
    return [school(sid, n, level, year, resources=res) for sid, (n, res) in rows.items()]
