from __future__ import annotations

import pytest

from bot.core.callbacks import TaskCallback, parse_task, task_cb


@pytest.mark.parametrize(
    "cb",
    [TaskCallback("done", 42), TaskCallback("setp", 7, 50), TaskCallback("open", 2**40)],
)
def test_round_trip_and_size(cb: TaskCallback) -> None:
    data = cb.encode()
    assert parse_task(data) == cb
    assert len(data.encode()) <= 64


@pytest.mark.parametrize(
    "data", ["", "task", "task:done", "task:zap:1", "task:done:x", "task:setp:1:x", "quiz:done:1",
             "task:done:1:2:3"],
)
def test_malformed_data_is_rejected(data: str) -> None:
    assert parse_task(data) is None


def test_helper_matches_class() -> None:
    assert task_cb("setp", 3, 75) == "task:setp:3:75"
