"""Exact arithmetic for indicator figures: sums as fractions, rounding only for display.

The national method publishes coefficients rounded half up (0.5153 → 0.52); rounding a
float would sometimes get a tie wrong, so roots are rounded from their exact squares.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from math import isqrt

Number = int | Decimal | Fraction | str

# Enough digits that no published rounding (at most 4 places) can be affected.
DIGITS = 40


def exact(value: Number) -> Fraction:
    """A figure as an exact fraction; strings are read as decimals ("12.5")."""
    if isinstance(value, bool):
        raise TypeError("a figure cannot be a boolean")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, str):
        return Fraction(Decimal(value.strip()))
    return Fraction(value)


def to_decimal(value: Fraction) -> Decimal:
    """`value` to DIGITS significant digits (for storing or comparing, not for display)."""
    with localcontext() as ctx:
        ctx.prec = DIGITS
        return Decimal(value.numerator) / Decimal(value.denominator)


def round_half_up(value: Fraction, places: int) -> Decimal:
    """`value` rounded half away from zero to `places` decimals, exactly."""
    scaled = abs(value) * 10**places
    whole = scaled.numerator // scaled.denominator
    if (scaled - whole) * 2 >= 1:
        whole += 1
    result = Decimal(whole).scaleb(-places)
    return -result if value < 0 else result


def sqrt_decimal(square: Fraction) -> Decimal:
    """√square to DIGITS significant digits; `square` must not be negative."""
    if square < 0:
        raise ValueError("square root of a negative number")
    with localcontext() as ctx:
        ctx.prec = DIGITS + 5
        root = (Decimal(square.numerator) / Decimal(square.denominator)).sqrt()
        ctx.prec = DIGITS
        return +root


def sqrt_round_half_up(square: Fraction, places: int) -> Decimal:
    """√square rounded half up to `places` decimals, decided on the exact square."""
    if square < 0:
        raise ValueError("square root of a negative number")
    scale = 10 ** (2 * places)
    whole = isqrt(square.numerator * scale // square.denominator)
    # Round up when √square·10^places ≥ whole + ½, i.e. 4·square·10^(2·places) ≥ (2·whole+1)².
    if 4 * square * scale >= (2 * whole + 1) ** 2:
        whole += 1
    return Decimal(whole).scaleb(-places)


def quantize(value: Decimal, places: int) -> Decimal:
    """A Decimal already carrying DIGITS digits, rounded half up for display."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def ceil_to_step(value: Fraction, step: Fraction) -> Fraction:
    """The smallest multiple of `step` that is ≥ value (value ≥ 0)."""
    if value <= 0:
        return Fraction(0)
    units = -((-value) // step)
    return units * step
