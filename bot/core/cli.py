"""Core subcommands: issue invites."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta
from typing import Any

from bot.config import AppConfig
from bot.core import onboarding
from bot.core.errors import DomainError
from bot.core.schema import check_schema
from bot.services import build_services
from bot.tasks.service import find_person
from bot.texts import Texts


def add_commands(subparsers: Any) -> None:
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


def cmd_invite(config: AppConfig, args: argparse.Namespace) -> int:
    async def issue() -> int:
        services = build_services(config)
        texts = Texts.load()
        try:
            await check_schema(services.db)
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
