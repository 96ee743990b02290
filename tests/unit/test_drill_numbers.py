"""Numbers as staff say them: numerals, percentages, bounds and ranges."""

from __future__ import annotations

import pytest

from bot.quiz.numbers import GE, LE, numerals_to_digits, quantities, same_amount, same_bound


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        ("百分之八十五", "85%"),
        ("零点六五", "0.65"),
        ("六至十五周岁", "6至15周岁"),
        ("三年中有两年", "3年中有2年"),
        ("三年中有一年", "3年中有1年"),
        ("二十一项", "21项"),
        # Words, not numbers.
        ("两基", "两基"),
        ("两通过、一达标", "两通过、一达标"),
        ("一把手", "一把手"),
        ("一票否决", "一票否决"),
        ("统一", "统一"),
    ],
)
def test_numerals(spoken: str, written: str) -> None:
    assert numerals_to_digits(spoken) == written


def one(text: str) -> tuple[float, float, str, str]:
    (q,) = quantities(numerals_to_digits(text))
    return q.low, q.high, q.unit, q.direction


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("满意度85%以上", (85, 85, "%", GE)),
        ("满意度不低于百分之八十五", (85, 85, "%", GE)),
        ("差异系数不超过0.65", (0.65, 0.65, "", LE)),
        ("差异系数≤0.65", (0.65, 0.65, "", LE)),
        ("零点六五以下", (0.65, 0.65, "", LE)),
        ("满意度未达到85%", (85, 85, "%", LE)),
        ("满意度不到85%", (85, 85, "%", LE)),
        ("八十五分以上", (85, 85, "分", GE)),
        ("6到15周岁", (6, 15, "周岁", "")),
        ("6-15岁", (6, 15, "周岁", "")),
    ],
)
def test_a_quantity_with_its_unit_and_bound(
    text: str, expected: tuple[float, float, str, str]
) -> None:
    assert one(text) == expected


def test_values_joined_share_the_bound() -> None:
    first, second = quantities("分别不超过0.65和0.55")
    assert (first.low, first.direction) == (0.65, LE)
    assert (second.low, second.direction) == (0.55, LE)


def test_list_markers_are_not_quantities() -> None:
    assert quantities("2是满意度") == []
    assert quantities("第3") == []


def test_the_same_amount_written_differently() -> None:
    (key,) = quantities("85%")
    for said in ("0.85", "85", "85%"):
        (q,) = quantities(said)
        assert same_amount(key, q), said
    (other_unit,) = quantities("85分")
    assert not same_amount(key, other_unit)
    (ge,) = quantities("85%以上")
    (le,) = quantities("85%以下")
    (plain,) = quantities("85%")
    assert same_bound(ge, plain) and not same_bound(ge, le)
