"""Domain errors carry a text id; the Telegram edge turns them into the user's language."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain was not met; `message_id` names the catalog text to show."""

    def __init__(self, message_id: str, **params: Any) -> None:
        super().__init__(message_id)
        self.message_id = message_id
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message_id!r}, {self.params!r})"


class NotFound(DomainError):
    pass


class PermissionDenied(DomainError):
    pass


class InvalidInput(DomainError):
    pass


class Conflict(DomainError):
    pass


class AlreadyDone(DomainError):
    """What was asked for is so already (a second press, an old button): nothing is wrong,
    so a button is answered with a passing note rather than an alert."""
