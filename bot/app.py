"""The composition root: the Application, its handlers and its lifecycle.

This is the one module of `bot/` that knows the Telegram edge (`handlers`): it builds the
services (`bot.services`), registers every handler, and starts and stops the features.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, NotRequired, TypedDict

from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    ContextTypes,
    Defaults,
    Updater,
)
from telegram.request import BaseRequest

import handlers
from bot.config import AppConfig
from bot.core.schema import SchemaBehind, check_schema
from bot.delivery.menus import publish_menus
from bot.delivery.pacing import Pacing
from bot.services import Services, build_services
from bot.workers import WorkerSlot
from handlers.context import AppContext, AppType

__all__ = ["ALLOWED_UPDATES", "AppType", "build_application", "run_bot", "webhook_arguments"]

log = logging.getLogger(__name__)

# What the bot asks Telegram for; everything else is never delivered to it.
ALLOWED_UPDATES = ["message", "callback_query", "poll_answer", "my_chat_member", "poll"]


def build_application(
    config: AppConfig,
    *,
    services: Services | None = None,
    request: BaseRequest | None = None,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    updater: bool = True,
    registers: bool = True,
) -> AppType:
    """Everything the bot needs, built here and nowhere at import time.

    `registers=False` builds a worker that leaves setWebhook and the command menus to
    worker 0 (`bot.workers`).
    """
    services = services or build_services(config)
    builder = (
        ApplicationBuilder()
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
    # Every request, replies included, keeps Telegram's pace (30/s overall, 20/min per
    # group, about 1/s per private chat); a 429 goes back to the caller, which decides how
    # long it may wait.
    limiter: Any = rate_limiter or Pacing(  # builder is generic in it
        private_per_second=config.reminders.delivery.private_per_second,
        on_reply_flood=services.delivery.dispatcher.yield_to_reply,
    )
    builder = builder.rate_limiter(limiter)
    if not updater:
        builder = builder.updater(None)
    app: AppType = builder.build()
    app.bot_data["services"] = services
    app.bot_data["registers"] = registers
    if updater and not registers:
        app.updater = _ServingUpdater(bot=app.bot, update_queue=app.update_queue)
    handlers.register_all(app)
    return app


def _services(app: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    services = app.bot_data["services"]
    assert isinstance(services, Services)
    return services


async def _post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services = _services(app)
    await check_schema(services.db)
    if app.bot_data.get("registers", True):
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


class _ServingUpdater(Updater):
    """Serves the webhook without registering it: worker 0 did (`bot.workers`).

    PTB 22.8's `start_webhook` always calls setWebhook through `_bootstrap`; N workers
    starting together would call that rate-limited method N times.
    """

    async def _bootstrap(self, *args: Any, **kwargs: Any) -> None:
        log.debug("setWebhook left to worker 0")


class WebhookUnprotected(Exception):
    """Webhook mode without a secret would accept any POST as an update from Telegram."""


class WebhookArguments(TypedDict):
    listen: str
    port: int
    url_path: str
    webhook_url: str
    secret_token: str
    allowed_updates: list[str]
    # Only the certificate, never a key: PTB then uploads it with setWebhook and leaves
    # TLS to the proxy.
    cert: NotRequired[str]


def webhook_arguments(config: AppConfig, worker: WorkerSlot | None = None) -> WebhookArguments:
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
    arguments = WebhookArguments(
        listen=telegram.webhook_listen,
        port=telegram.webhook_port if worker is None else worker.port(telegram.webhook_port),
        url_path=telegram.webhook_serve_path,
        webhook_url=telegram.webhook_url,
        secret_token=secret,
        allowed_updates=ALLOWED_UPDATES,
    )
    if telegram.webhook_certificate:
        arguments["cert"] = telegram.webhook_certificate
    return arguments


def run_bot(config: AppConfig, worker: WorkerSlot | None = None) -> int:
    """`inspectbot run`: long polling, or a webhook server, until interrupted.

    `worker` is this process's slot under `inspectbot run --workers N` (`bot.workers`):
    its port is `webhook_port + index`, and only worker 0 registers the webhook.
    """
    telegram = config.telegram
    try:
        arguments = webhook_arguments(config, worker) if telegram.mode == "webhook" else None
    except WebhookUnprotected as exc:
        print(f"拒绝以无密钥的 webhook 模式启动 / {exc}", file=sys.stderr)
        return 2
    app = build_application(config, registers=worker is None or worker.registers)
    try:
        if arguments is not None:
            app.run_webhook(**arguments)
        else:
            app.run_polling(allowed_updates=ALLOWED_UPDATES)
    except SchemaBehind as exc:
        print(f"数据库结构落后 / {exc}", file=sys.stderr)
        return 3
    return 0
