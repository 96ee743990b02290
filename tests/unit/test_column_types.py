"""`UTCDateTime` on SQLite: the one-step processors store and read exactly what the
two-step path (`process_bind_param`, then SQLite's `DATETIME`) does — instants are
compared as text there, so one character of difference would reorder them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import postgresql, sqlite

from db.base import UTCDateTime

SQLITE = sqlite.dialect()
COLUMN = UTCDateTime()


def _present(processor: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    assert processor is not None
    return processor


BIND = _present(COLUMN.dialect_impl(SQLITE).bind_processor(SQLITE))
READ = _present(COLUMN.dialect_impl(SQLITE).result_processor(SQLITE, None))
STORED = _present(DateTime().dialect_impl(SQLITE).bind_processor(SQLITE))
ZONES = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30)),
         ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York"), ZoneInfo("UTC")]


def two_steps(value: datetime) -> str:
    text: str = STORED(COLUMN.process_bind_param(value, SQLITE))
    return text


@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2999, 12, 30)),
       st.sampled_from(ZONES))
def test_stored_text_is_the_two_step_text(naive: datetime, zone: object) -> None:
    value = naive.replace(tzinfo=zone)  # type: ignore[arg-type]
    assert BIND(value) == two_steps(value)
    assert READ(BIND(value)) == value  # read back: the same instant, in UTC
    assert READ(BIND(value)).tzinfo is UTC


@pytest.mark.parametrize("stored", [
    "2026-11-30 01:02:03.004500", "2026-11-30 01:02:03", "2026-11-30T01:02:03",
    "2026-11-30 09:02:03+08:00",
])
def test_read_text_as_the_two_step_read(stored: str) -> None:
    assert READ(stored) == COLUMN.process_result_value(stored, SQLITE)
    assert READ(stored).tzinfo is UTC


def test_none_and_naive() -> None:
    assert BIND(None) is None
    assert READ(None) is None
    with pytest.raises(ValueError, match="naive"):
        BIND(datetime(2026, 11, 30))


def test_other_databases_keep_the_stock_processors() -> None:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    processor = _present(COLUMN.dialect_impl(dialect).bind_processor(dialect))
    local = datetime(2026, 1, 1, 8, tzinfo=timezone(timedelta(hours=8)))
    bound = processor(local)
    assert isinstance(bound, datetime) and bound.tzinfo is UTC and bound == local
