"""Lower bounds on what any plan for a level still needs: the count of improvements, and a
least cost. They prune the exact search and prove a plan's count minimal.

Per indicator, the least coefficient reachable with c improvements (`min_ratio_by_count`,
exact for basic sets), combined over the indicators (basic: the composite, by a small
dynamic programme; quality: each coefficient) and with each school's own needs under the
minimums rule.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

from bot.indicators.planner.state import LevelState

# Float bounds are only used to prune; this slack keeps rounding from pruning an optimum.
EPS = 1e-9
NEVER = 10**9


class LevelBounds(LevelState):
    """A level's state with the bounds the search prunes by."""

    def prepare(self) -> tuple[list[list[list[int]]], list[list[float]]]:
        """Per indicator, the least coefficient after c improvements, and a set reaching it.

        Returns the sets and the coefficients; keeps a slightly lowered copy for pruning.
        """
        self.cv_floor: list[list[float]] = []
        sets: list[list[list[int]]] = []
        exact_cvs: list[list[float]] = []
        for k in range(len(self.indicators)):
            items = [(c, o) for c in self.cells_on[k] for o in self.cells[c].options]
            profile, chosen = min_ratio_by_count([(o.q, o.y) for _, o in items],
                                                 float(self.sum_r[k]), self.sum_sq[k] / self.scale_l)
            cvs = [math.sqrt(max(0.0, self.n_total * phi - 1)) if not math.isinf(phi) else 10.0
                   for phi in profile]
            exact_cvs.append(cvs)
            self.cv_floor.append([max(0.0, v * (1 - 1e-7) - 1e-9) for v in cvs])
            sets.append([[items[i][0] for i in chosen_set] for chosen_set in chosen])
        self.cv_needed = []
        for floor in self.cv_floor:
            need = next((c for c, v in enumerate(floor) if v <= self.t_f + EPS), None)
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
                    result = (NEVER, math.inf)
                    break
                below_floor.append((to_floor, to_min - to_floor))
            else:
                below_min_only.append(to_min)
        if result is None:
            must_reach_min = max(0, len(below_floor) + len(below_min_only) - self.allowed)
            extras = sorted([e for _, e in below_floor] + below_min_only)
            if must_reach_min and math.isinf(extras[must_reach_min - 1]):
                result = (NEVER, math.inf)
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
        if excess <= EPS:
            return 0
        gains.sort(reverse=True)
        for n, gain in enumerate(gains, start=1):
            excess -= gain
            if excess <= EPS:
                return n
        return budget + 1

    def composite_lower(self) -> int:
        """Basic sets: no plan has fewer improvements than this (from the lowered bounds)."""
        dp, _ = composite_dp(self.cv_floor)
        limit = self.t_f * len(self.indicators)
        return next((n for n, v in enumerate(dp) if v <= limit + EPS), len(self.cells) + 1)


def composite_dp(cvs: list[list[float]]) -> tuple[list[float], list[list[int]]]:
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


def min_ratio_by_count(items: Sequence[tuple[float, float]], r0: float, q0: float
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
