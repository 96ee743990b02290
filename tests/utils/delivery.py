"""A dispatcher over its own outbox, configured as a test needs it."""

from __future__ import annotations

from bot.config import DeliveryConfig
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.outbox import Outbox
from bot.services import Services


def dispatcher(
    services: Services, *, worker: str | None = None, config: DeliveryConfig | None = None
) -> Dispatcher:
    return Dispatcher(
        db=services.db, outbox=Outbox(services.clock), clock=services.clock,
        config=config or services.config.reminders.delivery, texts=services.texts,
        worker_id=worker,
    )
