"""The smallest set of school improvements that brings a county within its standard.

An improvement raises one school's one indicator (for one level) to a target:
  * the county value x̄ of that level before any change (全县平均值),
  * the standard minimum (quality sets), or
  * the floor share of it (85 %, quality sets),
whichever lies above the school's value, by adding the resource it needs rounded up to
the resource's step: "+300 m²", "+20 台", "+2 人". At most one improvement per school,
level and indicator. A plan is feasible when every coefficient the set judges meets its
threshold (the composite for a basic set, each coefficient for a quality set) and, for
a quality set, every school passes the "≥ 6 of 7, the rest ≥ 85 %" rule.

Plans are ranked by the number of improvements, then by the total added resource, each
addition counted as a share of the county's current stock of that resource at that level
(+300 m² in a county with 30,000 m² of teaching space is 0.01), or at the prices given.
Remaining ties go to the smaller sorted list of (school, indicator, target).

Per level (levels do not interact):
  1. a lower bound on the count: per indicator, the least coefficient reachable with c
     improvements (exact for basic sets, see `min_ratio_by_count`), combined over the
     indicators (basic: the composite; quality: each coefficient) and with each school's
     own needs under the minimums rule;
  2. a good plan: for a basic set the indicators' best sets combined by the same bound,
     otherwise a greedy repair; then unneeded improvements are dropped and dear ones
     swapped for cheaper ones while the plan stays feasible;
  3. an exact branch and bound that raises the allowed count from the lower bound,
     branches on the violated constraint with the fewest ways to repair it and partitions
     those ways by the first school-indicator it uses, so every set is reached once.
The count is proven minimal when the plan reaches the lower bound or the search exhausts
the counts below it; the cost is proven when the search finishes within its node limit
(always on small counties). Otherwise the plan is the best found and says so.

Inside the package: `plan` (what a plan is), `state` (a level's possible improvements and
the exact incremental state), `bounds` (1), `search` (2 and 3) and `improvements` (a
level's plan turned into improvements, the most critical first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from bot.indicators.balance import split_scope
from bot.indicators.planner.improvements import improvements
from bot.indicators.planner.plan import (
    DEFAULT_NODE_LIMIT,
    Candidate,
    Improvement,
    LevelPlan,
    Outcome,
    Plan,
    PlanOptions,
    TargetKind,
)
from bot.indicators.planner.search import LevelSearch
from bot.indicators.planner.state import LevelState
from bot.indicators.records import Level, SchoolRecord
from bot.indicators.standards import StandardSet
from bot.indicators.whatif import Change, what_if

__all__ = [
    "DEFAULT_NODE_LIMIT",
    "Candidate",
    "Improvement",
    "LevelPlan",
    "Outcome",
    "Plan",
    "PlanOptions",
    "TargetKind",
    "candidates",
    "plan_improvements",
]


def candidates(standard: StandardSet, records: Sequence[SchoolRecord], level: Level,
               prices: Mapping[str, Fraction] | None = None) -> list[Candidate]:
    """Every improvement the planner may choose from at one level."""
    counted, _ = split_scope(standard, records, level)
    state = LevelState(standard, level, counted, prices)
    return [Candidate(state.records[cell.school].school_id, level,
                      state.indicators[cell.indicator].id, o.target, o.target_value, o.quantity,
                      o.cost)
            for cell in state.cells for o in cell.options]


def plan_improvements(standard: StandardSet, records: Sequence[SchoolRecord],
                      options: PlanOptions | None = None) -> Plan:
    """The fewest improvements (then the least added resource) that meet the standard."""
    opts = options or PlanOptions()
    levels: list[LevelPlan] = []
    changes: list[Change] = []
    for level in opts.levels or standard.levels:
        counted, _ = split_scope(standard, records, level)
        needed = {i.resource.id for i in standard.indicators}
        if any(r.amount(resource) is None for r in counted for resource in needed):
            levels.append(LevelPlan(level, Outcome.INCOMPLETE_DATA, (), True, True, 0))
            continue
        if not counted:
            levels.append(LevelPlan(level, Outcome.UNREACHABLE, (), True, True, 0))
            continue
        search = LevelSearch(standard, level, counted, opts.prices, opts.node_limit)
        outcome, plan, count_proven, cost_proven = search.run()
        ranked = improvements(search, plan)
        changes.extend(i.change for i in ranked)
        levels.append(LevelPlan(level, outcome, tuple(ranked), count_proven, cost_proven,
                                search.nodes))
    effect = what_if(standard, records, changes)
    return Plan(standard, tuple(levels), effect, opts.prices is not None)
