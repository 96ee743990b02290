"""Evidence subcommands: export the archive for inspectors."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.config import AppConfig
from bot.core.schema import SchemaBehind, check_schema
from bot.evidence.archive import DEFAULT_STATUSES, ArchiveStats, build_archive
from bot.evidence.store import StorageError
from bot.evidence.views import archive_labels
from bot.services import build_services
from bot.texts import Texts
from db.models import EvidenceStatus


def add_commands(subparsers: Any) -> None:
    archive = subparsers.add_parser(
        "archive",
        help="export the evidence archive: a ZIP by indicator/unit/task with index.xlsx",
    )
    archive.add_argument("out", type=Path, help="the ZIP file to write (replaced if present)")
    archive.add_argument("--all", action="store_true",
                         help="include rejected files (default: approved and pending)")
    archive.add_argument("--lang", choices=("zh", "en"), default=None,
                         help="language of index.xlsx and folder names (default: bot language)")
    archive.set_defaults(handler=cmd_archive)


def cmd_archive(config: AppConfig, args: argparse.Namespace) -> int:
    lang = args.lang or config.bot.default_language
    statuses = frozenset(EvidenceStatus) if args.all else DEFAULT_STATUSES

    async def progress(done: int, total: int) -> None:
        print(f"\r{done}/{total}", end="", file=sys.stderr, flush=True)

    async def run() -> ArchiveStats:
        services = build_services(config)
        try:
            await check_schema(services.db)
            return await build_archive(
                services.db, services.evidence.store, args.out,
                archive_labels(Texts.load(lang), lang), config.zone,
                statuses=statuses, on_progress=progress,
            )
        finally:
            services.evidence.store.close()
            await services.db.dispose()

    try:
        stats = asyncio.run(run())
    except SchemaBehind as exc:
        print(f"数据库结构落后 / {exc}", file=sys.stderr)
        return 3
    except StorageError as exc:
        print(f"\n佐证存储不可用 / evidence storage unusable: {exc}", file=sys.stderr)
        return 1
    print(file=sys.stderr)
    print(f"{args.out}: {stats.tasks} tasks, {stats.files} files, "
          f"{stats.bytes / 1024 / 1024:.1f} MB")
    if stats.missing or stats.mismatched:
        print(f"missing from storage: {stats.missing or '-'}; "
              f"hash mismatch: {stats.mismatched or '-'}", file=sys.stderr)
        return 1
    return 0
