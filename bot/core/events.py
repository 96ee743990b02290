"""A small in-process publish/subscribe, so features react to task changes after commit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Listener = Callable[[Any], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._listeners: dict[type, list[Listener]] = {}

    def subscribe(self, event_type: type, listener: Listener) -> None:
        self._listeners.setdefault(event_type, []).append(listener)

    async def publish(self, event: object) -> None:
        # A failing listener must not undo the committed change nor starve the others.
        for listener in self._listeners.get(type(event), []):
            try:
                await listener(event)
            except Exception:
                log.exception("listener %r failed on %r", listener, event)
