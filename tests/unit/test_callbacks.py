"""The one callback grammar: every shape round-trips, fits 64 bytes, and refuses forgeries."""

from __future__ import annotations

import pytest

from bot.core import callbacks
from bot.core.callbacks import SHAPES, Callback, Number, Word, build, parse, pattern


def _sample(field: Number | Word, largest: bool) -> int | str:
    if isinstance(field, Number):
        return field.high if largest else field.low
    return max(field.choices, key=len) if largest else min(field.choices)


@pytest.mark.parametrize("largest", [False, True])
@pytest.mark.parametrize(
    ("prefix", "action"),
    [(prefix, action) for prefix, actions in SHAPES.items() for action in actions],
)
def test_every_shape_round_trips_within_64_bytes(prefix: str, action: str, largest: bool) -> None:
    args = tuple(_sample(f, largest) for f in SHAPES[prefix][action])
    data = build(prefix, action, *args)
    assert len(data.encode()) <= callbacks.MAX_BYTES
    assert data.isascii()
    assert parse(data) == Callback(prefix, action, args)
    assert parse(data, prefix) == Callback(prefix, action, args)


@pytest.mark.parametrize(
    "data",
    [
        "", "task", "task:done", "task:zap:1", "task:done:x", "task:setp:1:x", "task:done:1:2",
        "task:setp:1:101", "task:done:0", "task:done:-1", "task:done:+1", "task:done: 1",
        "task:done:²", "task:done:١", "task:done:99999999999999999999", "task:done:2147483648",
        "rem:snz:12", "rem:done:12:5", "rem:snz:1:0", "ev:pick:7", "ev:up:1:2",
        "set:language:fr", "set:quiet:1", "quiz:skip:1", "nope:done:1", ":done:1",
        "task:done:1" + "0" * 60,
    ],
)
def test_malformed_or_forged_data_is_refused(data: str) -> None:
    assert parse(data) is None


def test_another_prefix_is_not_parsed_as_ours() -> None:
    assert parse("task:done:1", callbacks.EVIDENCE) is None
    assert parse("ev:ok:1", callbacks.EVIDENCE) == Callback("ev", "ok", (1,))


@pytest.mark.parametrize(
    ("prefix", "action", "args"),
    [
        ("task", "done", ()), ("task", "done", (1, 2)), ("task", "setp", (1, 101)),
        ("task", "done", (0,)), ("task", "done", ("1",)), ("set", "language", ("fr",)),
        ("rem", "snz", (1, True)),
    ],
)
def test_building_a_wrong_shape_is_a_programming_error(
    prefix: str, action: str, args: tuple[int | str, ...]
) -> None:
    with pytest.raises((ValueError, TypeError)):
        build(prefix, action, *args)


def test_typed_access() -> None:
    parsed = parse("ev:pick:7:42")
    assert parsed is not None
    assert (parsed.id, parsed.number(1)) == (7, 42)
    with pytest.raises(TypeError):
        parsed.word(0)
    setting = parse("set:quiet:off")
    assert setting is not None and setting.word() == "off"


def test_patterns_claim_only_their_actions() -> None:
    import re

    upload = re.compile(pattern(callbacks.EVIDENCE, "up", "pick"))
    assert upload.match("ev:up:1") and upload.match("ev:pick:1:2")
    assert not upload.match("ev:ok:1") and not upload.match("task:up:1")
    assert re.match(pattern(callbacks.TASK), "task:done:1")
    with pytest.raises(ValueError):
        pattern(callbacks.EVIDENCE, "nope")
