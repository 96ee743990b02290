"""Inline keyboards as plain values: views build them, the Telegram edge sends them.

Telegram allows at most 100 buttons in an inline keyboard; a view never builds more.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_BUTTONS = 100  # Telegram's limit for an inline keyboard


@dataclass(frozen=True)
class Button:
    """A button that sends `data` back as a callback query."""

    text: str
    data: str


@dataclass(frozen=True)
class Keyboard:
    rows: tuple[tuple[Button, ...], ...]

    def __post_init__(self) -> None:
        count = sum(len(row) for row in self.rows)
        if count > MAX_BUTTONS:
            raise ValueError(f"{count} buttons; Telegram allows {MAX_BUTTONS}")

    @classmethod
    def of(cls, rows: Iterable[Sequence[Button]]) -> Keyboard:
        return cls(tuple(tuple(row) for row in rows if row))

    @classmethod
    def column(cls, buttons: Iterable[Button]) -> Keyboard:
        """One button a row."""
        return cls(tuple((b,) for b in buttons))

    def __bool__(self) -> bool:
        return any(self.rows)

    def buttons(self) -> list[Button]:
        return [b for row in self.rows for b in row]

    def to_api(self) -> dict[str, list[list[dict[str, str]]]]:
        """The Bot API's InlineKeyboardMarkup object."""
        return {
            "inline_keyboard": [
                [{"text": b.text, "callback_data": b.data} for b in row] for row in self.rows
            ]
        }

    def to_json(self) -> str:
        return json.dumps(self.to_api(), ensure_ascii=False)
