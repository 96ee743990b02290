"""Wiring: build the Application and every service from a configuration."""

from __future__ import annotations

import logging
from typing import Any

from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    ContextTypes,
    Defaults,
)
from telegram.request import BaseRequest

from bot.config import AppConfig
from bot.context import AppContext, AppType, Services
from bot.core.clock import Clock, SystemClock
from bot.core.scheduler import Scheduler
from bot.delivery.menus import publish_menus
from bot.texts import Texts
from db.migrate import schema_state
from db.session import Database

log = logging.getLogger(__name__)


class SchemaBehind(RuntimeError):
    """The database schema is older than the code: refuse to run rather than corrupt it."""


def build_services(config: AppConfig, *, clock: Clock | None = None) -> Services:
    return Services(
        config=config,
        db=Database(config.database.url),
        texts=Texts.load(config.bot.default_language),
        clock=clock or SystemClock(),
        scheduler=Scheduler(config.zone),
    )


def _register_handlers(app: AppType, services: Services) -> None:
    # Order matters: the gate (group -1) stops unknown users before any feature sees the
    # update; within group 0 the first matching handler wins, so specific handlers
    # (commands, callback prefixes) come before the catch-all reply/text handlers.
    from handlers import errors, gate, reports, tables
    from handlers import onboarding as start
    from handlers.evidence import review
    from handlers.evidence import upload as evidence
    from handlers.quiz import drill, knowledge
    from handlers.quiz import polls as quiz
    from handlers.reminders import buttons as reminders
    from handlers.reminders import settings
    from handlers.tasks import admin
    from handlers.tasks import cards as tasks

    for module in (gate, start, admin, tasks, reminders, settings, tables, evidence, review,
                   quiz, drill, knowledge, reports, errors):
        module.register(app, services)


async def check_schema(services: Services) -> None:
    state = await schema_state(services.db.engine)
    if not state.up_to_date:
        raise SchemaBehind(
            "the database schema is not current "
            f"(database at {sorted(state.current) or 'nothing'}, code expects "
            f"{sorted(state.expected)}); run `inspectbot db upgrade` first"
        )


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
    token = config.telegram.token.get_secret_value() or "0:sandbox"
    builder = (
        ApplicationBuilder()
        .token(token)
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
    # Every request, replies included, passes Telegram's flood limits (30/s overall,
    # 20/min per group) and waits out a 429's retry_after instead of failing.
    limiter: Any = rate_limiter or AIORateLimiter(max_retries=3)  # builder is generic in it
    builder = builder.rate_limiter(limiter)
    if not updater:
        builder = builder.updater(None)
    app: AppType = builder.build()
    app.bot_data["services"] = services
    _register_handlers(app, services)
    return app


async def _post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services: Services = app.bot_data["services"]
    await check_schema(services)
    await publish_menus(app.bot, services)
    services.scheduler.start()
    for hook in services.startup_hooks:
        await hook(app)


async def _post_shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services: Services = app.bot_data["services"]
    for hook in reversed(services.shutdown_hooks):
        try:
            await hook(app)
        except Exception:
            log.exception("shutdown hook failed")
    services.scheduler.shutdown()
    await services.db.dispose()
