"""The exact search for one level's plan: a good plan first (basic sets: the indicators'
best sets combined; otherwise a greedy repair), polished, then a branch and bound that
raises the allowed count from the lower bound, branches on the violated constraint with
the fewest ways to repair it and partitions those ways by the first school-indicator it
uses, so every set is reached once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from bot.indicators.planner.bounds import EPS, LevelBounds, composite_dp
from bot.indicators.planner.plan import Outcome
from bot.indicators.planner.state import Option
from bot.indicators.records import Level, SchoolRecord
from bot.indicators.standards import StandardSet


class LevelSearch(LevelBounds):
    """A level's state and bounds, searched for the fewest, then cheapest, improvements."""

    def __init__(self, standard: StandardSet, level: Level, records: Sequence[SchoolRecord],
                 prices: Mapping[str, Fraction] | None, node_limit: int) -> None:
        super().__init__(standard, level, records, prices)
        self.node_limit = node_limit
        self.nodes = 0
        self.stopped = False
        self.best: tuple[int, Fraction, tuple[tuple[str, str, str], ...]] | None = None
        self.best_plan: dict[int, Option] = {}

    # Plans that are good but not proven -------------------------------------------------
    def greedy(self) -> dict[int, Option] | None:
        """Repeatedly take the improvement that repairs most (then costs least)."""
        taken: list[int] = []
        plan: dict[int, Option] | None = None
        for _ in range(len(self.cells)):
            if self.feasible():
                plan = dict(self.chosen)
                break
            best_move: tuple[float, float, int, Option] | None = None
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

    def composite_plan(self, sets: list[list[list[int]]], cv_exact: list[list[float]]
                       ) -> dict[int, Option] | None:
        """Basic sets: the fewest improvements from each indicator's best sets."""
        K = len(self.indicators)
        dp, choice = composite_dp(cv_exact)
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

    def with_plan(self, plan: Mapping[int, Option]) -> bool:
        for c, option in plan.items():
            self.apply(c, option)
        ok = self.feasible()
        for c in list(plan):
            self.undo(c)
        return ok

    def polish(self, plan: dict[int, Option], budget: int = 200_000) -> dict[int, Option]:
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

    def _key(self, plan: Mapping[int, Option]) -> tuple[tuple[str, str, str], ...]:
        return tuple(sorted((self.records[self.cells[c].school].school_id,
                             self.indicators[self.cells[c].indicator].id, o.target.value)
                            for c, o in plan.items()))

    def _offer(self, plan: Mapping[int, Option]) -> None:
        cost = sum((o.cost for o in plan.values()), Fraction(0))
        candidate = (len(plan), cost, self._key(plan))
        if self.best is None or candidate < self.best:
            self.best = candidate
            self.best_plan = dict(plan)

    def _worse(self, cost_f: float) -> bool:
        return self.best is not None and cost_f > float(self.best[1]) * (1 + EPS) + EPS

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

    def run(self) -> tuple[Outcome, dict[int, Option], bool, bool]:
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
