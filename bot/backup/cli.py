"""`inspectbot backup OUT` and `inspectbot restore IN [--force]`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.backup.manifest import BackupRefused
from bot.backup.service import create_backup, restore_backup
from bot.config import AppConfig
from bot.core.cli import ensure_data_dir
from bot.core.clock import SystemClock
from bot.texts import Texts


def add_commands(subparsers: Any) -> None:
    backup = subparsers.add_parser(
        "backup",
        help="one archive of the database, the evidence store and kept import files "
             "(safe while the bot runs)",
    )
    backup.add_argument("out", type=Path,
                        help="the archive to write (.tar, or .tar.gz to compress)")
    backup.set_defaults(handler=cmd_backup)
    restore = subparsers.add_parser(
        "restore", help="restore an archive made by `backup` (stop the bot first)")
    restore.add_argument("archive", type=Path, help="the archive to restore")
    restore.add_argument("--force", action="store_true",
                         help="replace a database that already holds data")
    restore.set_defaults(handler=cmd_restore)


def _texts(config: AppConfig) -> tuple[Texts, str]:
    lang = config.bot.default_language
    return Texts.load(lang), lang


def cmd_backup(config: AppConfig, args: argparse.Namespace) -> int:
    texts, lang = _texts(config)
    try:
        report = asyncio.run(create_backup(config, args.out, now=SystemClock().now()))
    except BackupRefused as exc:
        print(texts.plain(lang, exc.message_id, **exc.params), file=sys.stderr)
        return 2
    manifest = report.manifest
    print(texts.plain(
        lang, "backup.done.backup", out=str(report.out), dialect=manifest.dialect,
        revision=manifest.schema_revision or "-", tasks=manifest.counts.get("tasks", 0),
        evidence=manifest.counts.get("evidence", 0), files=len(manifest.evidence),
        imports=len(manifest.imports), size=f"{report.bytes / 1024 / 1024:.1f}"))
    if manifest.evidence_store != "local":
        print(texts.plain(lang, "backup.done.external", where=manifest.evidence_store))
    if report.missing or report.altered:
        print(texts.plain(lang, "backup.done.problems", missing=len(report.missing),
                          altered=len(report.altered),
                          first=", ".join((report.missing + report.altered)[:3])),
              file=sys.stderr)
        return 1
    return 0


def cmd_restore(config: AppConfig, args: argparse.Namespace) -> int:
    texts, lang = _texts(config)
    ensure_data_dir(config)
    try:
        report = asyncio.run(restore_backup(config, args.archive, force=args.force))
    except BackupRefused as exc:
        print(texts.plain(lang, exc.message_id, **exc.params), file=sys.stderr)
        return 2
    manifest = report.manifest
    print(texts.plain(
        lang, "backup.done.restore", archive=str(args.archive), created=manifest.created_at,
        revision=manifest.schema_revision or "-", tasks=manifest.counts.get("tasks", 0),
        evidence=manifest.counts.get("evidence", 0), files=report.evidence_files,
        imports=report.import_files))
    if report.upgraded_to:
        print(texts.plain(lang, "backup.done.upgraded", head=report.upgraded_to))
    if report.missing:
        external = _external(config)
        key = "backup.done.missing_external" if external else "backup.done.missing"
        print(texts.plain(lang, key, count=len(report.missing), where=external,
                          first=", ".join(report.missing[:3])), file=sys.stderr)
        return 1
    return 0


def _external(config: AppConfig) -> str:
    """The configured object store the restored evidence is looked for in, or ""."""
    if config.storage.backend == "local":
        return ""
    return f"s3://{config.storage.s3.bucket}/{config.storage.s3.prefix}".rstrip("/")
