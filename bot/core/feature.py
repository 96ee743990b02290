"""What the application needs from a feature: its menu entries and its lifecycle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.arguments import Words
from db.models import Role


@dataclass(frozen=True)
class CommandSpec:
    """A command shown in the menu of the given roles; `text_id` describes it, and `words`
    are the fixed words it takes (listed under it in /help)."""

    name: str
    text_id: str
    roles: frozenset[Role]
    words: Words | None = None


ALL_ROLES = frozenset(Role)
OFFICE = frozenset({Role.ADMIN})
LEADERS = frozenset({Role.ADMIN, Role.LEADER})


class Feature(Protocol):
    """Each `bot/<feature>/feature.py` provides one; `bot.services` builds them all."""

    @property
    def commands(self) -> Sequence[CommandSpec]:
        """The feature's commands, in menu order."""
        ...

    async def start(self) -> None:
        """Rebuild scheduler jobs and resume work from the database."""
        ...

    async def stop(self) -> None:
        """Let go of timers and connections; the database keeps what must survive."""
        ...
