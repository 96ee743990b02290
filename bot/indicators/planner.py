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
     improvements (exact for basic sets, see `_min_ratio_by_count`), combined over the
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
"""

from __future__ import annotations

import enum
import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from bot.indicators.balance import split_scope
from bot.indicators.numbers import ceil_to_step, sqrt_decimal, to_decimal
from bot.indicators.records import Level, Resource, SchoolRecord
from bot.indicators.standards import IndicatorDef, SetKind, StandardSet
from bot.indicators.whatif import Change, WhatIf, what_if

DEFAULT_NODE_LIMIT = 10_000
# Float bounds are only used to prune; this slack keeps rounding from pruning an optimum.
_EPS = 1e-9


class TargetKind(enum.StrEnum):
    MINIMUM = "minimum"
    FLOOR = "floor"
    COUNTY_VALUE = "county_value"


@dataclass(frozen=True)
class Improvement:
    school_id: str
    name: str
    level: Level
    indicator: IndicatorDef
    target: TargetKind
    target_value: Fraction
    value_before: Fraction
    value_after: Fraction
    quantity: Fraction  # resource to add, in the resource's unit
    cost: Fraction

    @property
    def resource(self) -> Resource:
        return self.indicator.resource

    @property
    def change(self) -> Change:
        return Change(self.school_id, self.resource.id, self.quantity, self.level)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.school_id, self.indicator.id, self.target.value)


class Outcome(enum.StrEnum):
    ALREADY_MET = "already_met"
    PLANNED = "planned"
    UNREACHABLE = "unreachable"  # no set of improvements meets the standard
    INCOMPLETE_DATA = "incomplete_data"  # a figure is missing; nothing can be judged


@dataclass(frozen=True)
class LevelPlan:
    level: Level
    outcome: Outcome
    improvements: tuple[Improvement, ...]  # most critical first
    count_proven: bool  # no plan with fewer improvements exists
    cost_proven: bool  # no plan with as many improvements adds less
    nodes: int

    @property
    def proven(self) -> bool:
        return self.count_proven and self.cost_proven

    @property
    def count(self) -> int:
        return len(self.improvements)

    @property
    def total_cost(self) -> Fraction:
        return sum((i.cost for i in self.improvements), Fraction(0))


@dataclass(frozen=True)
class Plan:
    standard: StandardSet
    levels: tuple[LevelPlan, ...]
    effect: WhatIf
    priced: bool

    @property
    def improvements(self) -> tuple[Improvement, ...]:
        return tuple(i for lp in self.levels for i in lp.improvements)

    @property
    def count(self) -> int:
        return sum(lp.count for lp in self.levels)

    @property
    def total_cost(self) -> Fraction:
        return sum((lp.total_cost for lp in self.levels), Fraction(0))

    @property
    def reachable(self) -> bool:
        return all(lp.outcome in (Outcome.PLANNED, Outcome.ALREADY_MET) for lp in self.levels)

    @property
    def proven(self) -> bool:
        return all(lp.proven for lp in self.levels)


# Candidates ------------------------------------------------------------------------------
@dataclass(slots=True)
class _Option:
    target: TargetKind
    target_value: Fraction
    quantity: Fraction
    value: Fraction  # the indicator value after
    cost: Fraction
    d_amount: int  # quantity in 1/D units
    d_square: int  # change of Σ amount²/students in 1/(L·D²) units
    q: float  # floats of the two, for bounds
    y: float
    cost_f: float
    meets_min: bool = False
    meets_floor: bool = False


@dataclass(slots=True)
class _Cell:
    school: int
    indicator: int
    options: list[_Option]
    min_cost: float = 0.0
    to_min: float = math.inf  # least cost of an option reaching the minimum
    to_floor: float = math.inf


@dataclass(frozen=True)
class Candidate:
    """One possible improvement, as the planner sees it (also used by tests)."""

    school_id: str
    level: Level
    indicator_id: str
    target: TargetKind
    target_value: Fraction
    quantity: Fraction
    cost: Fraction


def _targets(standard: StandardSet, indicator: IndicatorDef, level: Level, mean: Fraction
             ) -> list[tuple[TargetKind, Fraction]]:
    found: list[tuple[TargetKind, Fraction]] = []
    minimum = indicator.minimum.get(level)
    if standard.kind is SetKind.QUALITY and minimum is not None and standard.minimums:
        found.append((TargetKind.MINIMUM, minimum))
        found.append((TargetKind.FLOOR, minimum * standard.minimums.floor))
    found.append((TargetKind.COUNTY_VALUE, mean))
    return found


def _cost_base(indicator: IndicatorDef, level: Level, stock: Fraction, students: int) -> Fraction:
    if stock > 0:
        return stock
    minimum = indicator.minimum.get(level)
    if minimum:
        return indicator.amount_for(minimum, students)
    return Fraction(1)


# The search ------------------------------------------------------------------------------
class _LevelSearch:
    """One level's cells (school × indicator with options) and an exact incremental state."""

    def __init__(self, standard: StandardSet, level: Level, records: Sequence[SchoolRecord],
                 prices: Mapping[str, Fraction] | None, node_limit: int) -> None:
        self.standard = standard
        self.level = level
        self.records = list(records)
        self.indicators = standard.indicators
        self.quality = standard.kind is SetKind.QUALITY
        self.node_limit = node_limit
        self.nodes = 0
        self.stopped = False
        t = standard.threshold(level)
        self.threshold = t
        self.t_f = float(t)
        self.a_factor = 1 + t * t  # CV ≤ t ⇔ N·Σ(r²/n) ≤ (1 + t²)·(Σr)²
        self.students = [r.students for r in self.records]
        self.n_total = sum(self.students)
        S, K = len(self.records), len(self.indicators)
        amounts = [[r.resources[i.resource.id] for i in self.indicators] for r in self.records]
        # Exact integer state: amounts in units of 1/D, Σ amount²/students in 1/(L·D²).
        self.scale_l = math.lcm(*self.students)
        scale_d = 1
        for row in amounts:
            for a in row:
                scale_d = math.lcm(scale_d, a.denominator)
        for ind in self.indicators:
            scale_d = math.lcm(scale_d, ind.resource.step.denominator)
        self.values = [[ind.value(amounts[s][k], self.students[s]) for k, ind in enumerate(self.indicators)]
                       for s in range(S)]
        amount_int = [[int(a * scale_d) for a in row] for row in amounts]
        self.sum_r = [sum(amount_int[s][k] for s in range(S)) for k in range(K)]
        self.sum_sq = [sum(amount_int[s][k] ** 2 * (self.scale_l // self.students[s]) for s in range(S))
                       for k in range(K)]
        self.cells: list[_Cell] = []
        self.cell_at = [[-1] * K for _ in range(S)]
        for k, ind in enumerate(self.indicators):
            stock = sum((amounts[s][k] for s in range(S)), Fraction(0))
            mean = stock * ind.per / self.n_total
            base = _cost_base(ind, level, stock, self.n_total)
            price = prices.get(ind.resource.id) if prices is not None else None
            for s in range(S):
                options: dict[Fraction, _Option] = {}
                for kind, target in _targets(standard, ind, level, mean):
                    if target <= self.values[s][k]:
                        continue
                    need = ind.amount_for(target, self.students[s]) - amounts[s][k]
                    quantity = ceil_to_step(need, ind.resource.step)
                    if quantity <= 0 or quantity in options:
                        continue
                    d_amount = int(quantity * scale_d)
                    old = amount_int[s][k]
                    d_square = ((old + d_amount) ** 2 - old ** 2) * (self.scale_l // self.students[s])
                    cost = quantity * price if price is not None else quantity / base
                    options[quantity] = _Option(
                        kind, target, quantity, ind.value(amounts[s][k] + quantity, self.students[s]),
                        cost, d_amount, d_square, float(d_amount), d_square / self.scale_l, float(cost))
                if options:
                    ordered = sorted(options.values(), key=lambda o: o.quantity)
                    self.cell_at[s][k] = len(self.cells)
                    self.cells.append(_Cell(s, k, ordered, min(o.cost_f for o in ordered)))
        rule = standard.minimums
        self.allowed = K - rule.required_met if (self.quality and rule) else K
        self.minimum = [ind.minimum.get(level, Fraction(0)) for ind in self.indicators]
        self.floor_value = [m * rule.floor if rule else Fraction(0) for m in self.minimum]
        # Fraction comparisons are slow; the search only needs these answers.
        self.low = [[self.values[s][k] < self.minimum[k] for k in range(K)] for s in range(S)]
        self.very_low = [[self.values[s][k] < self.floor_value[k] for k in range(K)] for s in range(S)]
        for cell in self.cells:
            for o in cell.options:
                o.meets_min = o.value >= self.minimum[cell.indicator]
                o.meets_floor = o.value >= self.floor_value[cell.indicator]
            cell.to_min = min((o.cost_f for o in cell.options if o.meets_min), default=math.inf)
            cell.to_floor = min((o.cost_f for o in cell.options if o.meets_floor), default=math.inf)
        self.rule_cache: dict[int, tuple[int, float]] = {}
        self.cells_on = [[c for c, cell in enumerate(self.cells) if cell.indicator == k] for k in range(K)]
        self.cells_at = [[c for c, cell in enumerate(self.cells) if cell.school == s] for s in range(S)]
        self.cheapest = sorted(range(len(self.cells)), key=lambda c: self.cells[c].min_cost)
        self.chosen: dict[int, _Option] = {}
        self.decided = [False] * len(self.cells)
        self.chosen_on = [0] * K
        self.cv2 = [self._cv2(k) for k in range(K)]
        self.cv_ok = [self._cv_exact_ok(k) for k in range(K)]
        self.below_min = [sum(row) for row in self.low]
        self.below_floor = [sum(row) for row in self.very_low]
        self.bad_schools: set[int] = set()
        if self.quality:
            self.bad_schools = {s for s in range(S) if not self._school_ok(s)}
        self.best: tuple[int, Fraction, tuple[tuple[str, str, str], ...]] | None = None
        self.best_plan: dict[int, _Option] = {}

    # State -----------------------------------------------------------------------------
    def _cv2(self, k: int) -> float:
        r = self.sum_r[k]
        if r == 0:
            return math.inf
        return self.n_total * self.sum_sq[k] / (self.scale_l * r * r) - 1

    def _cv2_with(self, k: int, option: _Option, sign: int = 1) -> float:
        r = self.sum_r[k] + sign * option.d_amount
        if r == 0:
            return math.inf
        return self.n_total * (self.sum_sq[k] + sign * option.d_square) / (self.scale_l * r * r) - 1

    def _cv_exact_ok(self, k: int) -> bool:
        r = self.sum_r[k]
        if r == 0:
            return False
        a = self.a_factor
        return self.n_total * self.sum_sq[k] * a.denominator <= a.numerator * self.scale_l * r * r

    def _school_ok(self, s: int) -> bool:
        return self.below_floor[s] == 0 and self.below_min[s] <= self.allowed

    def _flags(self, s: int, k: int) -> tuple[bool, bool]:
        """(below the minimum, below the floor) for school s, indicator k, as things stand."""
        c = self.cell_at[s][k]
        option = self.chosen.get(c) if c >= 0 else None
        if option is None:
            return self.low[s][k], self.very_low[s][k]
        return not option.meets_min, not option.meets_floor

    def apply(self, c: int, option: _Option) -> None:
        cell = self.cells[c]
        s, k = cell.school, cell.indicator
        self.chosen[c] = option
        self.decided[c] = True
        self.chosen_on[k] += 1
        self.sum_r[k] += option.d_amount
        self.sum_sq[k] += option.d_square
        self._refresh(s, k, (self.low[s][k], self.very_low[s][k]),
                      (not option.meets_min, not option.meets_floor))

    def undo(self, c: int) -> None:
        option = self.chosen.pop(c)
        cell = self.cells[c]
        s, k = cell.school, cell.indicator
        self.decided[c] = False
        self.chosen_on[k] -= 1
        self.sum_r[k] -= option.d_amount
        self.sum_sq[k] -= option.d_square
        self._refresh(s, k, (not option.meets_min, not option.meets_floor),
                      (self.low[s][k], self.very_low[s][k]))

    def set_decided(self, c: int, decided: bool) -> None:
        self.decided[c] = decided
        self.rule_cache.pop(self.cells[c].school, None)

    def _refresh(self, s: int, k: int, old: tuple[bool, bool], new: tuple[bool, bool]) -> None:
        self.cv2[k] = self._cv2(k)
        if self.quality:
            self.rule_cache.pop(s, None)
            self.cv_ok[k] = self._cv_exact_ok(k)
            self.below_min[s] += new[0] - old[0]
            self.below_floor[s] += new[1] - old[1]
            if self._school_ok(s):
                self.bad_schools.discard(s)
            else:
                self.bad_schools.add(s)

    def composite_ok(self) -> bool:
        total = sum(math.sqrt(max(0.0, v)) for v in self.cv2)
        limit = self.t_f * len(self.cv2)
        if total < limit - 1e-9:
            return True
        if total > limit + 1e-9 or math.isinf(total):
            return False
        exact_total = to_decimal(Fraction(0))
        for k in range(len(self.indicators)):
            r = self.sum_r[k]
            square = Fraction(self.n_total * self.sum_sq[k], self.scale_l * r * r) - 1
            exact_total += sqrt_decimal(square)
        return exact_total <= to_decimal(self.threshold * len(self.indicators))

    def feasible(self) -> bool:
        if self.quality:
            return not self.bad_schools and all(self.cv_ok)
        return self.composite_ok()

    def violation(self) -> float:
        """How far from feasible: coefficient excess plus unmet school rules."""
        cvs = [math.sqrt(max(0.0, v)) if not math.isinf(v) else 10.0 for v in self.cv2]
        if not self.quality:
            return max(0.0, sum(cvs) - self.t_f * len(cvs))
        total = sum(max(0.0, v - self.t_f) for v in cvs)
        for s in self.bad_schools:
            total += self.below_floor[s] + max(0, self.below_min[s] - self.allowed)
        return total

    def _gain(self, c: int, option: _Option) -> float:
        """How much `violation` falls if `option` is applied at cell c (floats)."""
        cell = self.cells[c]
        s, k = cell.school, cell.indicator
        old = math.sqrt(max(0.0, self.cv2[k])) if not math.isinf(self.cv2[k]) else 10.0
        after = self._cv2_with(k, option)
        new = math.sqrt(max(0.0, after)) if not math.isinf(after) else 10.0
        if not self.quality:
            total = sum(math.sqrt(max(0.0, v)) if not math.isinf(v) else 10.0 for v in self.cv2)
            limit = self.t_f * len(self.cv2)
            return max(0.0, total - limit) - max(0.0, total - old + new - limit)
        gain = max(0.0, old - self.t_f) - max(0.0, new - self.t_f)
        was_min, was_floor = self._flags(s, k)
        now_min, now_floor = not option.meets_min, not option.meets_floor
        below_min = self.below_min[s] - was_min + now_min
        below_floor = self.below_floor[s] - was_floor + now_floor
        before = self.below_floor[s] + max(0, self.below_min[s] - self.allowed)
        return gain + before - (below_floor + max(0, below_min - self.allowed))

    # Plans that are good but not proven -------------------------------------------------
    def greedy(self) -> dict[int, _Option] | None:
        """Repeatedly take the improvement that repairs most (then costs least)."""
        taken: list[int] = []
        plan: dict[int, _Option] | None = None
        for _ in range(len(self.cells)):
            if self.feasible():
                plan = dict(self.chosen)
                break
            best_move: tuple[float, float, int, _Option] | None = None
            for c, cell in enumerate(self.cells):
                if self.decided[c]:
                    continue
                for option in cell.options:
                    gain = self._gain(c, option)
                    if gain > 1e-12 and (best_move is None or (gain, -option.cost_f) > best_move[:2]):
                        best_move = (gain, -option.cost_f, c, option)
            if best_move is None:
                break
            self.apply(best_move[2], best_move[3])
            taken.append(best_move[2])
        for c in reversed(taken):
            self.undo(c)
        return plan

    @staticmethod
    def _composite_dp(cvs: list[list[float]]) -> tuple[list[float], list[list[int]]]:
        """Least Σ coefficient for each total count, and the count per indicator behind it."""
        dp: list[float] = [0.0]
        choice: list[list[int]] = []
        for values in cvs:
            best = [math.inf] * (len(dp) + len(values) - 1)
            pick = [0] * len(best)
            for total, value in enumerate(dp):
                if math.isinf(value):
                    continue
                for c, cv in enumerate(values):
                    if value + cv < best[total + c]:
                        best[total + c] = value + cv
                        pick[total + c] = c
            dp = best
            choice.append(pick)
        return dp, choice

    def composite_lower(self) -> int:
        """Basic sets: no plan has fewer improvements than this (from the lowered bounds)."""
        dp, _ = self._composite_dp(self.cv_floor)
        limit = self.t_f * len(self.indicators)
        return next((n for n, v in enumerate(dp) if v <= limit + _EPS), len(self.cells) + 1)

    def composite_plan(self, sets: list[list[list[int]]], cv_exact: list[list[float]]
                       ) -> dict[int, _Option] | None:
        """Basic sets: the fewest improvements from each indicator's best sets."""
        K = len(self.indicators)
        dp, choice = self._composite_dp(cv_exact)
        target = next((n for n, v in enumerate(dp) if v <= self.t_f * K * (1 + 1e-12)), None)
        if target is None:
            return None
        counts = [0] * K
        total = target
        for k in range(K - 1, -1, -1):
            counts[k] = choice[k][total]
            total -= counts[k]
        plan = {}
        for k in range(K):
            for c in sets[k][counts[k]]:
                plan[c] = self.cells[c].options[0]
        return plan

    def with_plan(self, plan: Mapping[int, _Option]) -> bool:
        for c, option in plan.items():
            self.apply(c, option)
        ok = self.feasible()
        for c in list(plan):
            self.undo(c)
        return ok

    def polish(self, plan: dict[int, _Option], budget: int = 200_000) -> dict[int, _Option]:
        """Drop improvements that are not needed, then swap for cheaper ones while feasible."""
        for c, option in plan.items():
            self.apply(c, option)
        checks = 0
        changed = True
        while changed and checks < budget:
            changed = False
            for c in sorted(self.chosen, key=lambda c: -self.chosen[c].cost_f):
                option = self.chosen[c]
                self.undo(c)
                checks += 1
                if self.feasible():
                    changed = True
                    break
                self.apply(c, option)
            if changed:
                continue
            for c in sorted(self.chosen, key=lambda c: -self.chosen[c].cost_f):
                option = self.chosen[c]
                self.undo(c)
                swapped = False
                for d in self.cheapest:
                    if self.cells[d].min_cost >= option.cost_f or checks >= budget:
                        break
                    if self.decided[d] and d != c:
                        continue
                    for alternative in self.cells[d].options:
                        if alternative.cost_f >= option.cost_f or alternative is option:
                            continue
                        checks += 1
                        self.apply(d, alternative)
                        if self.feasible():
                            swapped = True
                            break
                        self.undo(d)
                    if swapped:
                        break
                if swapped:
                    changed = True
                    break
                self.apply(c, option)
        result = dict(self.chosen)
        for c in list(self.chosen):
            self.undo(c)
        return result

    # Bounds ----------------------------------------------------------------------------
    def prepare(self) -> tuple[list[list[list[int]]], list[list[float]]]:
        """Per indicator, the least coefficient after c improvements, and a set reaching it.

        Returns the sets and the coefficients; keeps a slightly lowered copy for pruning.
        """
        self.cv_floor: list[list[float]] = []
        sets: list[list[list[int]]] = []
        exact_cvs: list[list[float]] = []
        for k in range(len(self.indicators)):
            items = [(c, o) for c in self.cells_on[k] for o in self.cells[c].options]
            profile, chosen = _min_ratio_by_count([(o.q, o.y) for _, o in items],
                                                  float(self.sum_r[k]), self.sum_sq[k] / self.scale_l)
            cvs = [math.sqrt(max(0.0, self.n_total * phi - 1)) if not math.isinf(phi) else 10.0
                   for phi in profile]
            exact_cvs.append(cvs)
            self.cv_floor.append([max(0.0, v * (1 - 1e-7) - 1e-9) for v in cvs])
            sets.append([[items[i][0] for i in chosen_set] for chosen_set in chosen])
        self.cv_needed = []
        for floor in self.cv_floor:
            need = next((c for c, v in enumerate(floor) if v <= self.t_f + _EPS), None)
            self.cv_needed.append(len(floor) + 1 if need is None else need)
        return sets, exact_cvs

    def _rule_need(self, s: int) -> tuple[int, float]:
        """Fewest further improvements (and their least cost) school s needs for the rule."""
        cached = self.rule_cache.get(s)
        if cached is not None:
            return cached
        below_floor: list[tuple[float, float]] = []  # (cost to the floor, extra to the minimum)
        below_min_only: list[float] = []  # cost to the minimum
        result: tuple[int, float] | None = None
        for k in range(len(self.indicators)):
            low, very_low = self._flags(s, k)
            if not low:
                continue
            c = self.cell_at[s][k]
            open_cell = c >= 0 and not self.decided[c]
            to_min = self.cells[c].to_min if open_cell else math.inf
            if very_low:
                to_floor = self.cells[c].to_floor if open_cell else math.inf
                if math.isinf(to_floor):
                    result = (_NEVER, math.inf)
                    break
                below_floor.append((to_floor, to_min - to_floor))
            else:
                below_min_only.append(to_min)
        if result is None:
            must_reach_min = max(0, len(below_floor) + len(below_min_only) - self.allowed)
            extras = sorted([e for _, e in below_floor] + below_min_only)
            if must_reach_min and math.isinf(extras[must_reach_min - 1]):
                result = (_NEVER, math.inf)
            else:
                result = (max(len(below_floor), must_reach_min),
                          sum(f for f, _ in below_floor) + sum(extras[:must_reach_min]))
        self.rule_cache[s] = result
        return result

    def lower_bounds(self, budget: int) -> tuple[int, float]:
        """Fewest further improvements any feasible completion needs, and a least cost."""
        cost_rule = 0.0
        if self.quality:
            need = sum(max(0, self.cv_needed[k] - self.chosen_on[k])
                       for k in range(len(self.indicators)))
            need_rule = 0
            for s in self.bad_schools:
                n, c = self._rule_need(s)
                need_rule += n
                cost_rule += c
            need = max(need, need_rule)
        else:
            need = self._composite_need(budget)
        if need > budget:
            return need, math.inf
        cost = 0.0
        taken = 0
        for c in self.cheapest:
            if taken >= need:
                break
            if not self.decided[c]:
                cost += self.cells[c].min_cost
                taken += 1
        return need, max(cost, cost_rule)

    def _composite_need(self, budget: int) -> int:
        current = 0.0
        gains: list[float] = []
        for k, floor in enumerate(self.cv_floor):
            start = min(self.chosen_on[k], len(floor) - 1)
            current += floor[start]
            gains.extend(floor[j - 1] - floor[j] for j in range(start + 1, min(len(floor), start + budget + 1)))
        excess = current - self.t_f * len(self.cv_floor)
        if excess <= _EPS:
            return 0
        gains.sort(reverse=True)
        for n, gain in enumerate(gains, start=1):
            excess -= gain
            if excess <= _EPS:
                return n
        return budget + 1

    # Exact search ----------------------------------------------------------------------
    def _branches(self) -> list[int]:
        """The cells of the violated constraint with the fewest ways to repair it."""
        groups: list[list[int]] = []
        if self.quality:
            for s in self.bad_schools:
                groups.append([c for c in self.cells_at[s]
                               if not self.decided[c] and self.low[s][self.cells[c].indicator]])
            for k, ok in enumerate(self.cv_ok):
                if not ok:
                    groups.append([c for c in self.cells_on[k] if not self.decided[c]])
        else:
            groups.append([c for c in range(len(self.cells)) if not self.decided[c]])
        best = min(groups, key=lambda g: (sum(len(self.cells[c].options) for c in g), len(g)))
        return sorted(best, key=lambda c: (self.cells[c].min_cost, c))

    def _key(self, plan: Mapping[int, _Option]) -> tuple[tuple[str, str, str], ...]:
        return tuple(sorted((self.records[self.cells[c].school].school_id,
                             self.indicators[self.cells[c].indicator].id, o.target.value)
                            for c, o in plan.items()))

    def _offer(self, plan: Mapping[int, _Option]) -> None:
        cost = sum((o.cost for o in plan.values()), Fraction(0))
        candidate = (len(plan), cost, self._key(plan))
        if self.best is None or candidate < self.best:
            self.best = candidate
            self.best_plan = dict(plan)

    def _worse(self, cost_f: float) -> bool:
        return self.best is not None and cost_f > float(self.best[1]) * (1 + _EPS) + _EPS

    def dfs(self, budget: int, cost_f: float) -> None:
        self.nodes += 1
        if self.nodes > self.node_limit:
            self.stopped = True
            return
        if self.feasible():
            self._offer(self.chosen)
            return
        remaining = budget - len(self.chosen)
        if remaining <= 0:
            return
        need, least = self.lower_bounds(remaining)
        if need > remaining or self._worse(cost_f + least):
            return
        excluded: list[int] = []
        for c in self._branches():
            for option in self.cells[c].options:
                if self._worse(cost_f + option.cost_f):
                    continue
                self.apply(c, option)
                self.dfs(budget, cost_f + option.cost_f)
                self.undo(c)
                if self.stopped:
                    break
            # Later branches leave this cell alone: every set that uses it was seen above.
            self.set_decided(c, True)
            excluded.append(c)
            if self.stopped:
                break
        for c in excluded:
            self.set_decided(c, False)

    def run(self) -> tuple[Outcome, dict[int, _Option], bool, bool]:
        """(outcome, plan, count proven, cost proven)."""
        if self.feasible():
            return Outcome.ALREADY_MET, {}, True, True
        sets, exact_cvs = self.prepare()
        found = self.composite_plan(sets, exact_cvs) if not self.quality else None
        if found is None or not self.with_plan(found):
            found = self.greedy()
        if found is not None:
            found = self.polish(found)
            self._offer(found)
        limit = len(found) if found is not None else len(self.cells)
        lower, _ = self.lower_bounds(limit)
        if not self.quality:
            lower = max(lower, self.composite_lower())
        if lower > limit:
            return Outcome.UNREACHABLE, {}, True, True
        # Raise the allowed count from the lower bound; a count exhausted without a plan is
        # proven impossible, and the first count with a plan is searched to its cheapest.
        for budget in range(lower, limit + 1):
            kept = self.best, self.best_plan
            if self.best is None or self.best[0] != budget:
                self.best, self.best_plan = None, {}
            self.dfs(budget, 0.0)
            if self.best is not None and not self.stopped:
                return Outcome.PLANNED, self.best_plan, True, True
            if self.stopped:
                if self.best is None:
                    self.best, self.best_plan = kept
                break
            lower = budget + 1
            self.best, self.best_plan = kept
        if self.best is None:
            return Outcome.UNREACHABLE, {}, not self.stopped, not self.stopped
        return Outcome.PLANNED, self.best_plan, len(self.best_plan) <= lower, False

    def improvements(self, plan: Mapping[int, _Option]) -> list[Improvement]:
        found = []
        for c, option in plan.items():
            cell = self.cells[c]
            record = self.records[cell.school]
            found.append(Improvement(
                record.school_id, record.name, self.level, self.indicators[cell.indicator],
                option.target, option.target_value, self.values[cell.school][cell.indicator],
                option.value, option.quantity, option.cost))
        # Most critical first: how far the county falls short when this one is left out.
        damage: dict[tuple[str, str, str], float] = {}
        for c, option in plan.items():
            for other, o in plan.items():
                if other != c:
                    self.apply(other, o)
            record = self.records[self.cells[c].school]
            damage[(record.school_id, self.indicators[self.cells[c].indicator].id,
                    option.target.value)] = self.violation()
            for other in list(self.chosen):
                self.undo(other)
        found.sort(key=lambda i: (-damage[i.key], i.key))
        return found


_NEVER = 10**9


def _min_ratio_by_count(items: Sequence[tuple[float, float]], r0: float, q0: float
                        ) -> tuple[list[float], list[list[int]]]:
    """For c = 0..len(items): the least (q0 + Σy)/(r0 + Σq)² over sets of at most c items,
    and one set reaching it.

    The least sits on an extreme point of the sets' sums: the top-c items by q − μ·y for
    some μ > 0. One sweep of μ, swapping neighbours as their scores cross (a kinetic sorted
    list), sees every such set. Items may be several options of one school; allowing them
    together can only lower the least value, so it stays a valid bound, and it is exact
    when every school has one option (basic sets).
    """
    n = len(items)
    q = [i[0] for i in items]
    y = [i[1] for i in items]
    order = sorted(range(n), key=lambda i: (-q[i], y[i]))
    xs = [0.0] * (n + 1)
    ys = [0.0] * (n + 1)
    for p, i in enumerate(order):
        xs[p + 1] = xs[p] + q[i]
        ys[p + 1] = ys[p] + y[i]

    def ratio(p: int) -> float:
        total = r0 + xs[p]
        return (q0 + ys[p]) / (total * total) if total > 0 else math.inf

    best = [ratio(p) for p in range(n + 1)]
    best_at = [list(order[:p]) for p in range(n + 1)]
    events: list[tuple[float, int, int, int]] = []

    def push(p: int) -> None:
        i, j = order[p], order[p + 1]
        if y[i] > y[j]:
            heapq.heappush(events, ((q[i] - q[j]) / (y[i] - y[j]), p, i, j))

    for p in range(n - 1):
        push(p)
    while events:
        _, p, i, j = heapq.heappop(events)
        if order[p] != i or order[p + 1] != j:
            continue
        order[p], order[p + 1] = j, i
        xs[p + 1] = xs[p] + q[j]
        ys[p + 1] = ys[p] + y[j]
        value = ratio(p + 1)
        if value < best[p + 1]:
            best[p + 1] = value
            best_at[p + 1] = list(order[: p + 1])
        if p > 0:
            push(p - 1)
        if p + 1 < n - 1:
            push(p + 1)
    for c in range(1, n + 1):
        if best[c - 1] <= best[c]:
            best[c] = best[c - 1]
            best_at[c] = best_at[c - 1]
    return best, best_at


@dataclass(frozen=True)
class PlanOptions:
    # Resource id → price per unit; without prices an addition counts as its share of the
    # county's stock of that resource.
    prices: Mapping[str, Fraction] | None = None
    node_limit: int = DEFAULT_NODE_LIMIT
    levels: tuple[Level, ...] | None = None


def candidates(standard: StandardSet, records: Sequence[SchoolRecord], level: Level,
               prices: Mapping[str, Fraction] | None = None) -> list[Candidate]:
    """Every improvement the planner may choose from at one level."""
    counted, _ = split_scope(standard, records, level)
    search = _LevelSearch(standard, level, counted, prices, 0)
    return [Candidate(search.records[cell.school].school_id, level,
                      search.indicators[cell.indicator].id, o.target, o.target_value, o.quantity,
                      o.cost)
            for cell in search.cells for o in cell.options]


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
        search = _LevelSearch(standard, level, counted, opts.prices, opts.node_limit)
        outcome, plan, count_proven, cost_proven = search.run()
        improvements = search.improvements(plan)
        changes.extend(i.change for i in improvements)
        levels.append(LevelPlan(level, outcome, tuple(improvements), count_proven, cost_proven,
                                search.nodes))
    effect = what_if(standard, records, changes)
    return Plan(standard, tuple(levels), effect, opts.prices is not None)
