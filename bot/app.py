"""The composition root: the Application, its handlers and its lifecycle.

This is the one module of `bot/` that knows the Telegram edge (`handlers`): it builds the
services (`bot.services`), registers every handler, and starts and stops the features.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from telegram import Update
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
from bot.core import heap
from bot.core.schema import SchemaBehind, check_schema
from bot.delivery.menus import publish_menus
from bot.delivery.pacing import Pacing
from bot.delivery.transport import AiohttpRequest
from bot.ops import CannotListen
from bot.ops.health import HealthChecks
from bot.services import Services, build_services
from bot.workers import WorkerSlot, share_of
from handlers.context import AppContext, AppType
from handlers.observe import ObservedApplication

if TYPE_CHECKING:
    from bot.ops.server import OpsServer

__all__ = [
    "ALLOWED_UPDATES", "AppType", "Intake", "build_application", "run_bot", "start_intake",
    "webhook_arguments",
]

log = logging.getLogger(__name__)

# What the bot asks Telegram for; everything else is never delivered to it.
ALLOWED_UPDATES = ["message", "callback_query", "poll_answer", "my_chat_member", "poll"]


class _Application(ObservedApplication):
    """PTB's Application, each update timed and counted (`handlers.observe`) and handled
    within one database scope."""

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
    worker: WorkerSlot | None = None,
) -> AppType:
    """Everything the bot needs, built here and nowhere at import time.

    `worker`: one of `inspectbot run --workers N` (`bot.workers`). It keeps 1/N of
    Telegram's overall and per-group pace, and only worker 0 calls setWebhook and
    publishes the command menus.
    """
    if worker is not None:
        config = share_of(config, worker)
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
    else:
        # aiohttp rather than PTB's httpx: a seventh of the CPU per request
        # (bot.delivery.transport); pool sizes as PTB's own defaults.
        builder = builder.request(AiohttpRequest(connection_pool_size=256)).get_updates_request(
            AiohttpRequest(connection_pool_size=1))
    # Only what Telegram counts is paced (bot.delivery.pacing): messages in each chat and
    # group, and the overall rate for bulk; edits, button answers and reads go at once. A
    # 429 goes back to the caller, which decides how long it may wait. Under --workers N
    # the overall and per-group figures are this process's share (bot.workers.share_of).
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
    app.bot_data["registers"] = worker is None or worker.registers
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
    heap.settle()


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
    # A self-signed certificate on the proxy, uploaded with setWebhook (never a key: TLS
    # is the proxy's).
    cert: NotRequired[str]


def webhook_arguments(config: AppConfig, worker: WorkerSlot | None = None) -> WebhookArguments:
    """How the webhook server listens and what setWebhook registers.

    The server answers only on the path of `webhook_url` (Telegram posts nowhere else),
    and only to a POST carrying the secret Telegram was given (`bot.ops.server` answers
    403 to anything else before the body is read).
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


@dataclass
class Intake:
    """How updates reach this process (webhook or polling) and the HTTP server beside it."""

    app: AppType
    server: OpsServer | None

    @property
    def port(self) -> int:
        """The port the HTTP server listens on (0: none)."""
        return self.server.port if self.server is not None else 0

    async def stop(self) -> None:
        """Take no more updates: the server stops listening first, then polling ends."""
        if self.server is not None:
            await self.server.stop()
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()


async def start_intake(app: AppType, config: AppConfig, *, poll_timeout: int = 10,
                       worker: WorkerSlot | None = None) -> Intake:
    """Start taking updates after `post_init`, before `app.start()` (as PTB's run_* do).

    Webhook mode: the HTTP server serves the webhook's path, /healthz and /metrics on the
    webhook port, then setWebhook tells Telegram the address, the secret and the update
    kinds. Polling mode: getUpdates, and /healthz and /metrics on `[ops]` (unless port 0).
    Under `--workers N` (`worker`), worker i listens on webhook_port + i and only worker 0
    calls setWebhook: N processes starting together would call it N times.
    """
    services = _services(app)
    checks = HealthChecks(db=services.db, scheduler=services.scheduler,
                          clock=services.clock, config=config.ops)
    if config.telegram.mode == "webhook":
        from bot.ops.server import OpsServer, WebhookRoute  # aiohttp: only when serving HTTP

        hook = webhook_arguments(config, worker)

        async def deliver(data: dict[str, Any]) -> None:
            try:
                update = Update.de_json(data, app.bot)
            except Exception as exc:  # whatever de_json trips on, the body was not an update
                raise ValueError(type(exc).__name__) from None
            await app.update_queue.put(update)

        server = OpsServer(health=checks.run, webhook=WebhookRoute(
            path=hook["url_path"], secret=hook["secret_token"], deliver=deliver))
        await server.start(hook["listen"], hook["port"])
        try:
            if app.bot_data.get("registers", True):
                certificate = hook.get("cert")
                await app.bot.set_webhook(
                    url=hook["webhook_url"], secret_token=hook["secret_token"],
                    allowed_updates=hook["allowed_updates"],
                    certificate=Path(certificate) if certificate else None)
        except BaseException:
            await server.stop()
            raise
        return Intake(app, server)
    ops_server: OpsServer | None = None
    if config.ops.port:
        from bot.ops.server import OpsServer  # aiohttp: only when serving HTTP

        ops_server = OpsServer(health=checks.run)
        await ops_server.start(config.ops.listen, config.ops.port)
    assert app.updater is not None
    try:
        await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, timeout=poll_timeout)
    except BaseException:
        if ops_server is not None:
            await ops_server.stop()
        raise
    return Intake(app, ops_server)


async def _serve(app: AppType, config: AppConfig, worker: WorkerSlot | None) -> None:
    """Run until SIGINT or SIGTERM, then stop in order: intake, updates in hand, features."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    intake: Intake | None = None
    try:
        await app.initialize()
        await _post_init(app)
        intake = await start_intake(app, config, worker=worker)
        await app.start()
        await stopping.wait()
        log.info("stopping: no new updates; finishing the ones in hand")
    finally:
        if intake is not None:
            await intake.stop()
        if app.running:
            await app.stop()  # processes what is already queued
        await app.shutdown()
        await _post_shutdown(app)


def run_bot(config: AppConfig, worker: WorkerSlot | None = None) -> int:
    """`inspectbot run`: long polling, or the webhook server, until interrupted.

    `worker` is this process's slot under `inspectbot run --workers N` (`bot.workers`).
    """
    telegram = config.telegram
    try:
        if telegram.mode == "webhook":
            webhook_arguments(config, worker)
    except WebhookUnprotected as exc:
        print(f"拒绝以无密钥的 webhook 模式启动 / {exc}", file=sys.stderr)
        return 2
    app = build_application(config, worker=worker)
    try:
        asyncio.run(_serve(app, config, worker))
    except SchemaBehind as exc:
        print(f"数据库结构落后 / {exc}", file=sys.stderr)
        return 3
    except CannotListen as exc:
        print(f"无法监听端口 / {exc.strerror}", file=sys.stderr)
        return 4
    return 0
