"""Reminders at the Telegram edge: the dispatcher's lifecycle and the office's view of it."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from bot.context import AppType, Services
from bot.services.delivery import Delivery


def build_delivery(services: Services) -> Delivery:
    config = services.config
    return Delivery(
        db=services.db,
        clock=services.clock,
        config=config.reminders.delivery,
        texts=services.texts,
        admin_ids=config.telegram.admin_ids,
    )


def register(app: AppType, services: Services) -> None:
    delivery = build_delivery(services)
    services.features["delivery"] = delivery

    async def start_delivery(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        await delivery.start(application.bot)

    async def stop_delivery(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        await delivery.stop()

    services.startup_hooks.append(start_delivery)
    services.shutdown_hooks.append(stop_delivery)
