"""Breakdown-table subcommands: set up a campaign, import and export tasks, load the demo."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.config import AppConfig
from bot.core.cli import ensure_data_dir
from bot.core.errors import DomainError
from bot.core.schema import check_schema
from bot.services import Services, build_services
from bot.tables import setup as campaign_setup
from bot.tables import views as table_views
from bot.tables.export import export_tasks
from bot.tables.importer import apply_import, preview_import
from bot.tables.planner import ImportOptions
from bot.texts import Texts
from db import migrate
from db.models import TaskStatus

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"


def add_commands(subparsers: Any) -> None:
    setup = subparsers.add_parser(
        "setup", help="create or update the campaign, units, people and indicators from TOML"
    )
    setup.add_argument("file", type=Path, help="campaign file, e.g. examples/campaign.toml")
    setup.set_defaults(handler=cmd_setup)

    imp = subparsers.add_parser("import", help="import a task breakdown table (xlsx or csv)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--yes", action="store_true", help="write without asking")
    imp.add_argument("--dry-run", action="store_true", help="show the preview, write nothing")
    imp.set_defaults(handler=cmd_import)

    exp = subparsers.add_parser("export", help="export every task to an xlsx file")
    exp.add_argument("file", type=Path, help="target, e.g. tasks.xlsx")
    exp.set_defaults(handler=cmd_export)

    demo = subparsers.add_parser(
        "seed-demo", help="upgrade the schema and load the sample campaign from examples/"
    )
    demo.add_argument("--dir", type=Path, default=EXAMPLES_DIR, help="where the samples are")
    demo.set_defaults(handler=cmd_seed_demo)


def _say(services: Services, key: str, **params: object) -> str:
    return services.texts.plain(services.config.bot.default_language, key, **params)


def _fail(services: Services, error: DomainError) -> int:
    print(_say(services, error.message_id, **error.params), file=sys.stderr)
    return 1


async def _setup(services: Services, spec: campaign_setup.SetupFile, name: str) -> int:
    async with services.session() as session:
        result = await campaign_setup.apply_setup(session, spec, name)
    print(_say(services, "tables.setup.done", **campaign_setup.describe(result)))
    return 0


def _confirmed(services: Services) -> bool:
    if not sys.stdin.isatty():
        return False
    answer = input(_say(services, "tables.cli.confirm"))
    return answer.strip().lower() in ("y", "yes", "是")


async def _import(
    services: Services, data: bytes, name: str, *, yes: bool, dry_run: bool
) -> int:
    lang = services.config.bot.default_language
    options = ImportOptions.from_config(services.config)
    async with services.session() as session:
        preview = await preview_import(session, data, name, options, now=services.clock.now())
    print(table_views.preview_text(services.texts, lang, preview, html=False, max_errors=None))
    if not preview.ok:
        return 1
    if dry_run:
        print(_say(services, "tables.cli.dry_run"))
        return 0
    if not preview.needs_writing:
        print(_say(services, "tables.cli.nothing_to_write"))
        return 0
    if not (yes or _confirmed(services)):
        print(_say(services, "tables.cli.not_written"), file=sys.stderr)
        return 1
    async with services.session() as session:
        result = await apply_import(
            session, data, name, options, actor_id=None, now=services.clock.now()
        )
    print(table_views.result_text(services.texts, lang, result, html=False))
    return 0


async def _export(services: Services, path: Path) -> int:
    lang = services.config.bot.default_language
    labels = {s: services.texts.plain(lang, f"status.{s.value}") for s in TaskStatus}
    async with services.session() as session:
        count = await export_tasks(session, path, zone=services.config.zone, status_labels=labels)
    print(_say(services, "tables.cli.exported", count=count, file=str(path)))
    return 0


def _run(config: AppConfig, work: Callable[[Services], Awaitable[int]]) -> int:
    async def main() -> int:
        services = build_services(config)
        try:
            await check_schema(services.db)
            return await work(services)
        except DomainError as exc:
            return _fail(services, exc)
        finally:
            await services.db.dispose()

    return asyncio.run(main())


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as exc:
        print(f"{path}: {exc.strerror or exc}", file=sys.stderr)
        return None


def _load_setup(config: AppConfig, path: Path) -> campaign_setup.SetupFile | None:
    try:
        return campaign_setup.load_setup(path)
    except DomainError as exc:
        lang = config.bot.default_language
        print(Texts.load(lang).plain(lang, exc.message_id, **exc.params), file=sys.stderr)
        return None


def cmd_setup(config: AppConfig, args: argparse.Namespace) -> int:
    spec = _load_setup(config, args.file)
    if spec is None:
        return 1
    return _run(config, lambda services: _setup(services, spec, str(args.file)))


def cmd_import(config: AppConfig, args: argparse.Namespace) -> int:
    data = _read(args.file)
    if data is None:
        return 1
    return _run(
        config,
        lambda services: _import(services, data, args.file.name, yes=args.yes,
                                 dry_run=args.dry_run),
    )


def cmd_export(config: AppConfig, args: argparse.Namespace) -> int:
    return _run(config, lambda services: _export(services, args.file))


def cmd_seed_demo(config: AppConfig, args: argparse.Namespace) -> int:
    """Idempotent: the demo can be started again and again on the same database."""
    spec = _load_setup(config, args.dir / "campaign.toml")
    table = _read(args.dir / "breakdown.xlsx")
    if spec is None or table is None:
        return 1
    ensure_data_dir(config)
    migrate.upgrade(config.database.url)

    async def seed(services: Services) -> int:
        await _setup(services, spec, "campaign.toml")
        return await _import(services, table, "breakdown.xlsx", yes=True, dry_run=False)

    return _run(config, seed)
