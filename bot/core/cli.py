"""Core subcommands: run the bot, manage the schema, issue invites."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta
from typing import Any

from bot.app import SchemaBehind, build_application, build_services, check_schema
from bot.config import AppConfig
from bot.core import onboarding
from bot.core.errors import DomainError
from bot.tasks.service import find_person
from bot.texts import Texts
from db import migrate

NO_TOKEN = (
    "没有配置 Telegram 令牌：请在 config.toml 的 [telegram] token 中填写，或设置环境变量 "
    "INSPECTBOT_TOKEN。想先试用，请运行 `make demo`（本地沙箱，无需令牌）。\n"
    "No Telegram token configured: set [telegram] token in config.toml or INSPECTBOT_TOKEN. "
    "To try the bot without one, run `make demo` (local sandbox)."
)


def add_commands(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="run the bot (polling or webhook, per config)")
    run.set_defaults(handler=cmd_run)

    db = subparsers.add_parser("db", help="database schema: upgrade or status")
    db.add_argument("action", choices=("upgrade", "status"))
    db.set_defaults(handler=cmd_db)

    invite = subparsers.add_parser("invite", help="create a single-use invite for a person")
    invite.add_argument("person", help="person id or exact name")
    invite.add_argument("--bot-username", default="", help="to print a t.me deep link")
    invite.set_defaults(handler=cmd_invite)


def ensure_data_dir(config: AppConfig) -> None:
    config.storage.data_dir.mkdir(parents=True, exist_ok=True)
    url = config.database.url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def cmd_db(config: AppConfig, args: argparse.Namespace) -> int:
    ensure_data_dir(config)
    if args.action == "upgrade":
        migrate.upgrade(config.database.url)
        print("数据库已是最新结构 / schema is up to date")
        return 0

    async def status() -> int:
        services = build_services(config)
        try:
            state = await migrate.schema_state(services.db.engine)
        finally:
            await services.db.dispose()
        print(f"current: {sorted(state.current)}\nexpected: {sorted(state.expected)}")
        return 0 if state.up_to_date else 1

    return asyncio.run(status())


def cmd_run(config: AppConfig, args: argparse.Namespace) -> int:
    if not config.telegram.has_token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    ensure_data_dir(config)
    return run_bot(config)


def run_bot(config: AppConfig) -> int:
    app = build_application(config)
    try:
        if config.telegram.mode == "webhook":
            app.run_webhook(
                listen=config.telegram.webhook_listen,
                port=config.telegram.webhook_port,
                webhook_url=config.telegram.webhook_url,
                secret_token=config.telegram.webhook_secret.get_secret_value() or None,
                allowed_updates=["message", "callback_query", "poll_answer", "my_chat_member",
                                 "poll"],
            )
        else:
            app.run_polling(
                allowed_updates=["message", "callback_query", "poll_answer", "my_chat_member",
                                 "poll"],
            )
    except SchemaBehind as exc:
        print(f"数据库结构落后 / {exc}", file=sys.stderr)
        return 3
    return 0


def cmd_invite(config: AppConfig, args: argparse.Namespace) -> int:
    async def issue() -> int:
        services = build_services(config)
        texts = Texts.load()
        try:
            await check_schema(services)
            async with services.session() as session:
                person = await find_person(session, args.person)
                issued = await onboarding.issue_invite(
                    session, person=person, created_by_id=None, now=services.clock.now(),
                    ttl=timedelta(hours=config.bot.invite_ttl_hours),
                )
        except DomainError as exc:
            print(texts.plain("zh", exc.message_id, **exc.params), file=sys.stderr)
            return 1
        finally:
            await services.db.dispose()
        print(f"{issued.person_name}: {issued.code}")
        if args.bot_username:
            print(onboarding.deep_link(args.bot_username, issued.code))
        return 0

    return asyncio.run(issue())
