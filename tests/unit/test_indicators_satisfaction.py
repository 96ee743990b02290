"""Survey results against the 85 % satisfaction threshold."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from bot.core.errors import InvalidInput
from bot.indicators.satisfaction import GroupResult, satisfaction_rate
from bot.indicators.standards import SatisfactionStandard
from bot.indicators.status import State
from tests.unit.indicator_factories import library


def _standard() -> SatisfactionStandard:
    standard = library().standard("basic-balance-2012").satisfaction
    assert standard is not None
    return standard


STANDARD = _standard()

SAMPLE = [GroupResult("parents", 400, 350), GroupResult("teachers", 100, 95),
          GroupResult("deputies", 20, 15)]


def test_pooled_rate_counts_every_respondent_once() -> None:
    result = satisfaction_rate(STANDARD, SAMPLE)
    assert result.rate == Fraction(460, 520)
    assert result.state is State.MET and not result.weighted
    assert result.margin == Fraction(460, 520) - Fraction(85, 100)
    assert [g.group for g in result.groups] == ["deputies", "parents", "teachers"]
    assert [g.group for g in result.groups_below] == ["deputies"]


def test_weights_from_the_set_replace_pooling() -> None:
    weighted = replace(STANDARD, weights={"parents": Fraction(1, 2), "teachers": Fraction(3, 10),
                                          "deputies": Fraction(1, 5)})
    result = satisfaction_rate(weighted, SAMPLE)
    # 0.5 × 0.875 + 0.3 × 0.95 + 0.2 × 0.75
    assert result.rate == Fraction(8725, 10000) and result.weighted
    low = [GroupResult("parents", 400, 350), GroupResult("teachers", 100, 95),
           GroupResult("deputies", 20, 8)]
    assert satisfaction_rate(STANDARD, low).rate == Fraction(453, 520)  # 0.871: met
    assert satisfaction_rate(STANDARD, low).state is State.MET
    assert satisfaction_rate(weighted, low).rate == Fraction(8025, 10000)  # 0.4375 + 0.285 + 0.08
    assert satisfaction_rate(weighted, low).state is State.NOT_MET


def test_a_weighted_group_without_answers_leaves_the_rate_unknown() -> None:
    weighted = replace(STANDARD, weights={"parents": Fraction(1), "deputies": Fraction(1)})
    result = satisfaction_rate(weighted, [GroupResult("parents", 10, 10)])
    assert result.rate is None and result.state is State.UNKNOWN


def test_no_survey_yet_is_unknown() -> None:
    assert satisfaction_rate(STANDARD, []).state is State.UNKNOWN


def test_bad_samples_are_refused() -> None:
    with pytest.raises(InvalidInput):
        GroupResult("parents", 10, 11)
    with pytest.raises(InvalidInput):
        satisfaction_rate(STANDARD, [GroupResult("parents", 1, 1), GroupResult("parents", 2, 1)])
    with pytest.raises(InvalidInput):
        satisfaction_rate(STANDARD, [GroupResult("tourists", 1, 1)])
