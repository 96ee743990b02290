"""Report subcommands: the ledger to a file, the summary and the bulletin in a terminal."""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.config import AppConfig
from bot.core.schema import check_schema
from bot.reports import bulletin as bulletin_service
from bot.reports import bulletin_words
from bot.reports.ledger import write_ledger
from bot.reports.summary import build_summary
from bot.reports.views import summary_text
from bot.services import Services, build_services
from db.models import Campaign
from db.repositories import campaigns as campaigns_repo
from db.repositories.reports import EVERYTHING

_TAG = re.compile(r"<[^>]+>")
NO_CAMPAIGN = "没有进行中的迎检工作 / no active campaign"


def add_commands(subparsers: Any) -> None:
    report = subparsers.add_parser("report", help="write the rectification ledger (XLSX)")
    report.add_argument("out", type=Path, help="the .xlsx file to write")
    report.add_argument("--lang", choices=("zh", "en"), default="zh")
    report.set_defaults(handler=cmd_report)

    summary = subparsers.add_parser("summary", help="print the leaders' summary")
    summary.add_argument("--lang", choices=("zh", "en"), default="zh")
    summary.set_defaults(handler=cmd_summary)

    bulletin = subparsers.add_parser("bulletin", help="preview or send the bulletin")
    mode = bulletin.add_mutually_exclusive_group(required=True)
    mode.add_argument("--preview", action="store_true", help="print it, send nothing")
    mode.add_argument("--send", action="store_true",
                      help="queue it for the leaders' chat (the running bot sends it)")
    mode.add_argument("--docx", type=Path, metavar="OUT",
                      help="write it as a printable Word document, send nothing")
    bulletin.set_defaults(handler=cmd_bulletin)


def plain(text: str) -> str:
    """A chat message's HTML as terminal text."""
    return html.unescape(_TAG.sub("", text))


def _with_campaign(
    config: AppConfig, work: Callable[[Services, Campaign], Awaitable[int]]
) -> int:
    """Run `work` on the active campaign; say so and fail when there is none."""

    async def run() -> int:
        services = build_services(config)
        try:
            await check_schema(services.db)
            async with services.session() as session:
                campaign = await campaigns_repo.active_campaign(session=session)
            if campaign is None:
                print(NO_CAMPAIGN, file=sys.stderr)
                return 1
            return await work(services, campaign)
        finally:
            await services.db.dispose()

    return asyncio.run(run())


def cmd_report(config: AppConfig, args: argparse.Namespace) -> int:
    async def work(services: Services, campaign: Campaign) -> int:
        async with services.session() as session:
            stats = await write_ledger(
                session, campaign=campaign, scope=EVERYTHING, now=services.clock.now(),
                zone=config.zone, texts=services.texts, lang=args.lang, path=args.out,
            )
        print(f"{args.out}: {stats.rows} tasks, {stats.overdue} overdue, {stats.units} units")
        return 0

    return _with_campaign(config, work)


def cmd_summary(config: AppConfig, args: argparse.Namespace) -> int:
    async def work(services: Services, campaign: Campaign) -> int:
        now = services.clock.now()
        async with services.session() as session:
            summary = await build_summary(
                session, campaign, EVERYTHING, now, config.zone, readiness=services.reports.readiness,
                certification=services.reports.certification,
            )
        print(plain(summary_text(services.texts, args.lang, summary, now, config.zone)))
        return 0

    return _with_campaign(config, work)


def cmd_bulletin(config: AppConfig, args: argparse.Namespace) -> int:
    async def work(services: Services, campaign: Campaign) -> int:
        if args.preview or args.docx:
            now = services.clock.now()
            lang = config.reports.bulletin_language
            feature = services.reports
            async with services.session() as session:
                since = await bulletin_service.period_start(session, campaign.id, now)
                bulletin = await bulletin_service.build_bulletin(
                    session, campaign, now, config.zone, since, readiness=feature.readiness,
                    rules=feature.bulletin_rules, status=feature.bulletin_status, language=lang,
                )
            issuer = config.reports.bulletin_issuer
            if args.docx:
                from bot.reports.bulletin_docx import write_docx

                await asyncio.to_thread(
                    write_docx, args.docx, services.texts, lang, bulletin, config.zone,
                    bulletin_words.issuer_of(services.texts, lang, issuer),
                )
                print(f"{args.docx}: 第 {bulletin.issue} 期 / issue {bulletin.issue}")
                return 0
            text = bulletin_words.render_bulletin(services.texts, lang, bulletin, config.zone,
                                                    issuer)
            print(plain(text))
            return 0
        # Queued only: the running bot's dispatcher picks it up at its next poll.
        outcome = await services.reports.post_bulletin(manual=True)
        if outcome.status == "no_chat":
            print("没有设置领导小组群 / set [reports] leaders_chat_id", file=sys.stderr)
            return 1
        print(f"queued {outcome.key} for chat {outcome.chat_id}")
        return 0

    return _with_campaign(config, work)
