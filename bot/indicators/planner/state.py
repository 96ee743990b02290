"""The planner's view of one level: every possible improvement (a cell per school and
indicator, with its options) and an exact incremental state of the coefficients and the
minimums rule, so applying and undoing an improvement costs O(1) per check.

Sums are kept as integers: amounts in units of 1/D and Σ amount²/students in units of
1/(L·D²), so feasibility is decided exactly; floats serve only the bounds and the gains.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from bot.indicators.numbers import ceil_to_step, sqrt_decimal, to_decimal
from bot.indicators.planner.plan import TargetKind
from bot.indicators.records import Level, SchoolRecord
from bot.indicators.standards import IndicatorDef, SetKind, StandardSet


@dataclass(slots=True)
class Option:
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
class Cell:
    school: int
    indicator: int
    options: list[Option]
    min_cost: float = 0.0
    to_min: float = math.inf  # least cost of an option reaching the minimum
    to_floor: float = math.inf


def targets(standard: StandardSet, indicator: IndicatorDef, level: Level, mean: Fraction
            ) -> list[tuple[TargetKind, Fraction]]:
    found: list[tuple[TargetKind, Fraction]] = []
    minimum = indicator.minimum.get(level)
    if standard.kind is SetKind.QUALITY and minimum is not None and standard.minimums:
        found.append((TargetKind.MINIMUM, minimum))
        found.append((TargetKind.FLOOR, minimum * standard.minimums.floor))
    found.append((TargetKind.COUNTY_VALUE, mean))
    return found


def cost_base(indicator: IndicatorDef, level: Level, stock: Fraction, students: int) -> Fraction:
    if stock > 0:
        return stock
    minimum = indicator.minimum.get(level)
    if minimum:
        return indicator.amount_for(minimum, students)
    return Fraction(1)


class LevelState:
    """One level's cells (school × indicator with options) and an exact incremental state."""

    def __init__(self, standard: StandardSet, level: Level, records: Sequence[SchoolRecord],
                 prices: Mapping[str, Fraction] | None) -> None:
        self.standard = standard
        self.level = level
        self.records = list(records)
        self.indicators = standard.indicators
        self.quality = standard.kind is SetKind.QUALITY
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
        self.cells: list[Cell] = []
        self.cell_at = [[-1] * K for _ in range(S)]
        for k, ind in enumerate(self.indicators):
            stock = sum((amounts[s][k] for s in range(S)), Fraction(0))
            mean = stock * ind.per / self.n_total
            base = cost_base(ind, level, stock, self.n_total)
            price = prices.get(ind.resource.id) if prices is not None else None
            for s in range(S):
                options: dict[Fraction, Option] = {}
                for kind, target in targets(standard, ind, level, mean):
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
                    options[quantity] = Option(
                        kind, target, quantity, ind.value(amounts[s][k] + quantity, self.students[s]),
                        cost, d_amount, d_square, float(d_amount), d_square / self.scale_l, float(cost))
                if options:
                    ordered = sorted(options.values(), key=lambda o: o.quantity)
                    self.cell_at[s][k] = len(self.cells)
                    self.cells.append(Cell(s, k, ordered, min(o.cost_f for o in ordered)))
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
        self.chosen: dict[int, Option] = {}
        self.decided = [False] * len(self.cells)
        self.chosen_on = [0] * K
        self.cv2 = [self._cv2(k) for k in range(K)]
        self.cv_ok = [self._cv_exact_ok(k) for k in range(K)]
        self.below_min = [sum(row) for row in self.low]
        self.below_floor = [sum(row) for row in self.very_low]
        self.bad_schools: set[int] = set()
        if self.quality:
            self.bad_schools = {s for s in range(S) if not self._school_ok(s)}

    # State -----------------------------------------------------------------------------
    def _cv2(self, k: int) -> float:
        r = self.sum_r[k]
        if r == 0:
            return math.inf
        return self.n_total * self.sum_sq[k] / (self.scale_l * r * r) - 1

    def _cv2_with(self, k: int, option: Option, sign: int = 1) -> float:
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

    def apply(self, c: int, option: Option) -> None:
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

    def _gain(self, c: int, option: Option) -> float:
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
