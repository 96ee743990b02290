"""Figures as people read them, the same in every language: 1,650 · 0.67 · 86.5%."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from bot.indicators.certification import Check, CheckKind
from bot.indicators.numbers import round_half_up

RATE_KEYS = ("veto:satisfaction", "veto:disabled_enrolment")


def num(value: Fraction | Decimal | int | None, places: int = 2) -> str:
    """Thousands separated, at most `places` decimals, no trailing zeros; — for nothing."""
    if value is None:
        return "—"
    exact = value if isinstance(value, Fraction) else Fraction(value)
    rounded = round_half_up(exact, places)
    text = f"{rounded:,.{places}f}" if places else f"{rounded:,.0f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def fixed(value: Decimal | Fraction | None, places: int) -> str:
    """A coefficient to exactly `places` decimals (0.50, not 0.5), rounded half up."""
    if value is None:
        return "—"
    exact = value if isinstance(value, Fraction) else Fraction(value)
    return f"{round_half_up(exact, places):.{places}f}"


def percent(value: Fraction | Decimal | None, places: int = 0) -> str:
    if value is None:
        return "—"
    exact = value if isinstance(value, Fraction) else Fraction(value)
    return f"{num(exact * 100, places)}%"


def is_rate(check: Check) -> bool:
    return check.kind in (CheckKind.SATISFACTION, CheckKind.DISABLED_ENROLMENT) or (
        check.kind is CheckKind.VETO and check.key in RATE_KEYS)


def check_numbers(check: Check, places: int) -> tuple[str, str, str]:
    """(value, threshold with its comparison, |margin|) of a check, as text."""
    if is_rate(check):
        return (percent(check.value, 1), f"≥{percent(check.threshold, 1)}",
                percent(abs(check.margin), 1) if check.margin is not None else "—")
    if check.kind is CheckKind.COEFFICIENT:
        return (fixed(check.value, places), f"≤{fixed(check.threshold, places)}",
                fixed(abs(check.margin), places) if check.margin is not None else "—")
    if check.kind is CheckKind.ASSESSMENT:
        return (num(check.value, 1), f"≥{num(check.threshold, 1)}",
                num(abs(check.margin), 1) if check.margin is not None else "—")
    return (num(check.value, 1), f"≤{num(check.threshold, 1)}",
            num(abs(check.margin), 1) if check.margin is not None else "—")
