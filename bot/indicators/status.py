"""The three answers a threshold can have: met, not met, or not known from the data yet."""

from __future__ import annotations

import enum
from collections.abc import Iterable


class State(enum.StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


def worst(states: Iterable[State]) -> State:
    """Not met if anything is not met; otherwise unknown if anything is unknown."""
    result = State.MET
    for state in states:
        if state is State.NOT_MET:
            return State.NOT_MET
        if state is State.UNKNOWN:
            result = State.UNKNOWN
    return result
