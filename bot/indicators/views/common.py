"""What the indicator views share: one catalog text for a chat or a terminal, the marks of
a check's state, the `ind:` buttons' data and how an indicator's value is written.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from bot.core import callbacks
from bot.indicators.formatting import num
from bot.indicators.status import State
from bot.texts import Texts

STATE_MARK = {State.MET: "✅", State.NOT_MET: "❌", State.UNKNOWN: "❔"}


def ind_cb(action: str, *args: int) -> str:
    return callbacks.build(callbacks.INDICATORS, action, *args)


def phrase(texts: Texts, lang: str, html: bool, key: str, **params: Any) -> str:
    """One catalog text, escaped for a chat or plain for a terminal."""
    return texts.get(lang, key, **params) if html else texts.plain(lang, key, **params)


def value_text(value: Fraction | None) -> str:
    """An indicator's value: two decimals, three for the small per-student teacher counts."""
    if value is not None and abs(value) < 1:
        return num(value, 3)
    return num(value)
