"""A level's plan turned into improvements: what each adds and moves, most critical first
(the one whose absence would leave the county furthest from the standard).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.indicators.planner.plan import Improvement
from bot.indicators.planner.state import LevelState, Option


def improvements(state: LevelState, plan: Mapping[int, Option]) -> list[Improvement]:
    """A level's plan as improvements, the most critical first."""
    found = []
    for c, option in plan.items():
        cell = state.cells[c]
        record = state.records[cell.school]
        found.append(Improvement(
            record.school_id, record.name, state.level, state.indicators[cell.indicator],
            option.target, option.target_value, state.values[cell.school][cell.indicator],
            option.value, option.quantity, option.cost))
    # Most critical first: how far the county falls short when this one is left out.
    damage: dict[tuple[str, str, str], float] = {}
    for c, option in plan.items():
        for other, o in plan.items():
            if other != c:
                state.apply(other, o)
        record = state.records[state.cells[c].school]
        damage[(record.school_id, state.indicators[state.cells[c].indicator].id,
                option.target.value)] = state.violation()
        for other in list(state.chosen):
            state.undo(other)
    found.sort(key=lambda i: (-damage[i.key], i.key))
    return found
