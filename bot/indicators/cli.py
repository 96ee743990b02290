"""`inspectbot indicators …`: the data workbook, its import, the certification status, the
campaign's standard set, the sample data and the generated quiz questions."""

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
from bot.core.errors import DomainError
from bot.core.schema import check_schema
from bot.indicators import certify, importing
from bot.indicators.data import load_county
from bot.indicators.questions import refresh_questions
from bot.indicators.sample import SAMPLE
from bot.indicators.settings import choose_standard
from bot.indicators.template import county_book
from bot.indicators.views import certify_text, import_preview_text, import_result_text
from bot.services import Services, build_services

_TAG = re.compile(r"<[^>]+>")


def add_commands(subparsers: Any) -> None:
    top = subparsers.add_parser("indicators", help="school data: template, import, status …")
    actions = top.add_subparsers(dest="action", required=True, metavar="ACTION")

    template = actions.add_parser("template", help="write the data workbook (XLSX) to fill in")
    template.add_argument("out", type=Path, help="the .xlsx file to write")
    template.add_argument("--year", type=int, help="school year (default: latest with data)")
    template.add_argument("--lang", choices=("zh", "en"), default=None)
    template.set_defaults(handler=cmd_template)

    imp = actions.add_parser("import", help="import a filled data workbook")
    imp.add_argument("file", type=Path)
    imp.add_argument("--yes", action="store_true", help="write without asking")
    imp.add_argument("--dry-run", action="store_true", help="show the preview, write nothing")
    imp.set_defaults(handler=cmd_import)

    status = actions.add_parser("status", help="print the certification status")
    status.add_argument("--lang", choices=("zh", "en"), default=None)
    status.set_defaults(handler=cmd_status)

    standard = actions.add_parser("standard", help="choose the campaign's standard set")
    which = standard.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", help="a built-in set, e.g. basic-balance-2012")
    which.add_argument("--file", type=Path, help="a province's own set (YAML)")
    standard.set_defaults(handler=cmd_standard)

    sample = actions.add_parser("sample", help="load the sample county's school data")
    sample.add_argument("--file", type=Path, default=SAMPLE)
    sample.set_defaults(handler=cmd_sample)

    questions = actions.add_parser("questions",
                                   help="regenerate the quiz questions from the figures")
    questions.set_defaults(handler=cmd_questions)


def plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


def _lang(services: Services, given: str | None) -> str:
    return given or services.config.bot.default_language


def _run(config: AppConfig, work: Callable[[Services], Awaitable[int]]) -> int:
    async def main() -> int:
        services = build_services(config)
        try:
            await check_schema(services.db)
            return await work(services)
        except DomainError as exc:
            lang = services.config.bot.default_language
            print(services.texts.plain(lang, exc.message_id, **exc.params), file=sys.stderr)
            return 1
        finally:
            await services.db.dispose()

    return asyncio.run(main())


def _confirmed(services: Services) -> bool:
    if not sys.stdin.isatty():
        return False
    answer = input(services.texts.plain(services.config.bot.default_language,
                                        "indicators.cli.confirm"))
    return answer.strip().lower() in ("y", "yes", "是")


def cmd_template(config: AppConfig, args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        lang = _lang(services, args.lang)
        async with services.session() as session:
            data, year = await county_book(
                session, services.indicators.standards, services.texts, lang,
                campaign_id=await certify.active_campaign_id(session), now=services.clock.now(),
                zone=config.zone, year=args.year)
        await asyncio.to_thread(args.out.write_bytes, data)
        print(services.texts.plain(lang, "indicators.cli.template_written", file=str(args.out),
                                   year=year))
        return 0

    return _run(config, work)


def cmd_import(config: AppConfig, args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        lang = services.config.bot.default_language
        data = await asyncio.to_thread(args.file.read_bytes)
        standards = services.indicators.standards
        async with services.session() as session:
            campaign_id = await certify.active_campaign_id(session)
            preview, _ = await importing.preview(session, standards, services.texts,
                                                 campaign_id, data, args.file.name)
        print(import_preview_text(services.texts, lang, preview, html=False, max_errors=None))
        if preview.errors:
            return 1
        if args.dry_run or not preview.writes:
            return 0
        if not (args.yes or _confirmed(services)):
            print(services.texts.plain(lang, "indicators.cli.not_written"), file=sys.stderr)
            return 1
        async with services.session() as session:
            plan = await importing.plan_file(session, standards, services.texts, campaign_id,
                                             data)
            result = await importing.write_plan(session, plan, campaign_id, actor_id=None,
                                                now=services.clock.now(), source="cli")
        await services.indicators.after_import()
        print(import_result_text(services.texts, lang, result, html=False))
        return 0

    return _run(config, work)


def cmd_status(config: AppConfig, args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        lang = _lang(services, args.lang)
        standards = services.indicators.standards
        async with services.session() as session:
            county = await load_county(session, standards,
                                       await certify.active_campaign_id(session))
            view = await certify.certification_view(session, standards, county,
                                                    services.clock.now())
        print(plain(certify_text(services.texts, lang, view, html=False)))
        return 0

    return _run(config, work)


def cmd_standard(config: AppConfig, args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        async with services.session() as session:
            standard = await choose_standard(
                session, services.indicators.standards,
                await certify.active_campaign_id(session), standard_id=args.id, file=args.file)
        print(services.texts.plain(services.config.bot.default_language,
                                   "indicators.standard_chosen", standard=standard.title,
                                   id=standard.id))
        return 0

    return _run(config, work)


def cmd_sample(config: AppConfig, args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        result = await services.indicators.load_sample(args.file)
        print(import_result_text(services.texts, services.config.bot.default_language, result,
                                 html=False))
        return 0

    return _run(config, work)


def cmd_questions(config: AppConfig, args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        async with services.session() as session:
            result = await refresh_questions(session, services.indicators.standards,
                                             await certify.active_campaign_id(session))
        created, updated = (result.questions_created, result.questions_updated) if result else (0, 0)
        print(services.texts.plain(services.config.bot.default_language,
                                   "indicators.cli.questions", created=created, updated=updated))
        return 0

    return _run(config, work)
