"""Public satisfaction (公众满意度 / 社会认可度) from sampled survey results.

Neither national method weights the groups it asks (parents, teachers, principals,
deputies and CPPCC members, residents, students), so the overall rate pools every
respondent: Σ satisfied ÷ Σ respondents. A set that names `weights` gets the weighted
mean of the group rates instead. Group rates are shown either way, so leaders see which
group pulls the rate down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from bot.core.errors import InvalidInput
from bot.indicators.standards import SatisfactionStandard
from bot.indicators.status import State


@dataclass(frozen=True)
class GroupResult:
    """One group's sample: how many answered, how many were satisfied (满意 or 基本满意)."""

    group: str
    respondents: int
    satisfied: int

    def __post_init__(self) -> None:
        if self.respondents < 0 or not 0 <= self.satisfied <= self.respondents:
            raise InvalidInput("indicators.survey.bad_counts", group=self.group,
                               respondents=self.respondents, satisfied=self.satisfied)


@dataclass(frozen=True)
class GroupRate:
    group: str
    respondents: int
    satisfied: int
    rate: Fraction | None  # None without respondents
    state: State


@dataclass(frozen=True)
class SatisfactionResult:
    min_rate: Fraction
    weighted: bool
    rate: Fraction | None
    respondents: int
    groups: tuple[GroupRate, ...]  # lowest rate first
    state: State
    reason: str = ""

    @property
    def margin(self) -> Fraction | None:
        return None if self.rate is None else self.rate - self.min_rate

    @property
    def groups_below(self) -> tuple[GroupRate, ...]:
        return tuple(g for g in self.groups if g.state is State.NOT_MET)


def satisfaction_rate(standard: SatisfactionStandard, results: Sequence[GroupResult]
                      ) -> SatisfactionResult:
    seen: set[str] = set()
    for r in results:
        if r.group in seen:
            raise InvalidInput("indicators.survey.duplicate_group", group=r.group)
        if standard.groups and r.group not in standard.groups:
            raise InvalidInput("indicators.survey.unknown_group", group=r.group,
                               groups=", ".join(standard.groups))
        seen.add(r.group)
    groups = []
    for r in results:
        group_rate = Fraction(r.satisfied, r.respondents) if r.respondents else None
        state = (State.UNKNOWN if group_rate is None
                 else State.MET if group_rate >= standard.min_rate else State.NOT_MET)
        groups.append(GroupRate(r.group, r.respondents, r.satisfied, group_rate, state))
    groups.sort(key=lambda g: (g.rate is None, g.rate if g.rate is not None else 0, g.group))
    respondents = sum(r.respondents for r in results)
    weights = standard.weights
    rate: Fraction | None
    reason = ""
    if weights is None:
        satisfied = sum(r.satisfied for r in results)
        rate = Fraction(satisfied, respondents) if respondents else None
        if rate is None:
            reason = "no_respondents"
    else:
        by_group = {g.group: g for g in groups}
        missing = [g for g in weights if by_group.get(g) is None or by_group[g].rate is None]
        if missing:
            rate, reason = None, "group_without_respondents"
        else:
            total_weight = sum(weights.values(), Fraction(0))
            rate = sum((w * (by_group[g].rate or 0) for g, w in weights.items()),
                       Fraction(0)) / total_weight
    state = (State.UNKNOWN if rate is None
             else State.MET if rate >= standard.min_rate else State.NOT_MET)
    return SatisfactionResult(standard.min_rate, weights is not None, rate, respondents,
                              tuple(groups), state, reason)
