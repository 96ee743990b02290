"""The composition root: the Application, its handlers and its lifecycle.

This is the one module of `bot/` that knows the Telegram edge (`handlers`): it builds the
services (`bot.services`), registers every handler, and starts and stops the features.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TypedDict

from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    ContextTypes,
    Defaults,
)
from telegram.request import BaseRequest

import handlers
from bot.config import AppConfig
from bot.core.schema import SchemaBehind, check_schema
from bot.delivery.menus import publish_menus
from bot.delivery.pacing import Pacing
from bot.services import Services, build_services
from handlers.context import AppContext, AppType

__all__ = ["ALLOWED_UPDATES", "AppType", "build_application", "run_bot", "webhook_arguments"]

log = logging.getLogger(__name__)

# What the bot asks Telegram for; everything else is never delivered to it.
ALLOWED_UPDATES = ["message", "callback_query", "poll_answer", "my_chat_member", "poll"]


class _Application(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application, each update handled within one database scope."""

    async def process_update(self, update: object) -> None:
        services = self.bot_data.get("services")
        if not isinstance(services, Services):
            await super().process_update(update)
            return
        # The gate's reads and the handler's unit of work share one session
        # (bot.core.runtime); it is closed when every group has had the update.
        async with services.update_scope():
            await super().process_update(update)


def build_application(
    config: AppConfig,
    *,
    services: Services | None = None,
    request: BaseRequest | None = None,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    updater: bool = True,
) -> AppType:
    """Everything the bot needs, built here and nowhere at import time."""
    services = services or build_services(config)
    builder = (
        ApplicationBuilder()
        .application_class(_Application)
        .token(config.telegram.bot_token)
        .context_types(ContextTypes(context=AppContext))
        .defaults(Defaults(tzinfo=config.zone))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .concurrent_updates(True)
    )
    if config.telegram.base_url:
        builder = builder.base_url(config.telegram.base_url)
    if config.telegram.base_file_url:
        builder = builder.base_file_url(config.telegram.base_file_url)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    # Only what Telegram counts is paced (bot.delivery.pacing): messages in each chat and
    # group, and the overall rate for bulk; edits, button answers and reads go at once. A
    # 429 goes back to the caller, which decides how long it may wait.
    delivery = config.reminders.delivery
    limiter: Any = rate_limiter or Pacing(  # builder is generic in it
        overall_per_second=delivery.global_per_second,
        group_per_minute=delivery.group_per_minute,
        private_per_second=delivery.private_per_second,
        on_reply_flood=services.delivery.dispatcher.yield_to_reply,
    )
    builder = builder.rate_limiter(limiter)
    if not updater:
        builder = builder.updater(None)
    app: AppType = builder.build()
    app.bot_data["services"] = services
    handlers.register_all(app)
    return app


def _services(app: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    services = app.bot_data["services"]
    assert isinstance(services, Services)
    return services


async def _post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services = _services(app)
    await check_schema(services.db)
    await publish_menus(app.bot, services, services.commands)
    services.scheduler.start()
    for feature in services.features():
        await feature.start()
    await handlers.on_startup(app)


async def _post_shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services = _services(app)
    for feature in reversed(services.features()):
        try:
            await feature.stop()
        except Exception:
            log.exception("stopping %s failed", type(feature).__name__)
    services.scheduler.shutdown()
    await services.db.dispose()


class WebhookUnprotected(Exception):
    """Webhook mode without a secret would accept any POST as an update from Telegram."""


class WebhookArguments(TypedDict):
    listen: str
    port: int
    url_path: str
    webhook_url: str
    secret_token: str
    allowed_updates: list[str]


def webhook_arguments(config: AppConfig) -> WebhookArguments:
    """How the webhook server listens and what setWebhook registers.

    The server answers only on the path of `webhook_url` (PTB's default is "/", where
    Telegram never posts), and only to a POST carrying the secret Telegram was given:
    PTB answers 403 to anything else before the update is read.
    """
    telegram = config.telegram
    secret = telegram.webhook_secret_value
    if not secret:
        raise WebhookUnprotected(
            "webhook mode needs [telegram] token (the secret is derived from it) "
            "or [telegram] webhook_secret")
    return WebhookArguments(
        listen=telegram.webhook_listen,
        port=telegram.webhook_port,
        url_path=telegram.webhook_serve_path,
        webhook_url=telegram.webhook_url,
        secret_token=secret,
        allowed_updates=ALLOWED_UPDATES,
    )


def run_bot(config: AppConfig) -> int:
    """`inspectbot run`: long polling, or a webhook server, until interrupted."""
    telegram = config.telegram
    try:
        arguments = webhook_arguments(config) if telegram.mode == "webhook" else None
    except WebhookUnprotected as exc:
        print(f"拒绝以无密钥的 webhook 模式启动 / {exc}", file=sys.stderr)
        return 2
    app = build_application(config)
    try:
        if arguments is not None:
            app.run_webhook(**arguments)
        else:
            app.run_polling(allowed_updates=ALLOWED_UPDATES)
    except SchemaBehind as exc:
        print(f"数据库结构落后 / {exc}", file=sys.stderr)
        return 3
    return 0
