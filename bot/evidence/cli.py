"""Evidence subcommands: export the archive for inspectors; move and verify the files."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.config import AppConfig
from bot.core.schema import SchemaBehind, check_schema
from bot.evidence.archive import DEFAULT_STATUSES, ArchiveStats, build_archive
from bot.evidence.backends import s3_store
from bot.evidence.store import EvidenceStore, LocalEvidenceStore, StorageError, local_store
from bot.evidence.transfer import CopyReport, VerifyReport, copy_to_bucket, verify_store
from bot.evidence.views import archive_labels
from bot.services import build_services
from bot.texts import Texts
from db.models import EvidenceStatus
from db.repositories import evidence as repo
from db.session import Database

MB = 1024 * 1024
# Lines of individual problems printed before "and N more".
LISTED = 20


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

    storage = subparsers.add_parser(
        "storage", help="evidence files: copy the local store into object storage, verify")
    actions = storage.add_subparsers(dest="action", required=True, metavar="ACTION")
    migrate = actions.add_parser(
        "migrate", help="copy every local evidence file into the [storage.s3] bucket, "
                        "reading each back to verify it (resumable; the local copy stays)")
    migrate.add_argument("--to", choices=("s3",), required=True, help="the target store")
    migrate.add_argument("--source", type=Path, default=None,
                         help="the local store (default: <data_dir>/evidence)")
    migrate.add_argument("--jobs", type=int, default=4, choices=range(1, 33), metavar="1-32",
                         help="files in flight at once (default 4)")
    migrate.set_defaults(handler=cmd_storage_migrate)
    verify = actions.add_parser(
        "verify", help="check that every evidence row's file is in the store with its SHA-256")
    verify.add_argument("--store", choices=("local", "s3"), default=None,
                        help="the store to check (default: [storage] backend)")
    verify.add_argument("--quick", action="store_true",
                        help="check presence and size only, without reading the bytes")
    verify.add_argument("--jobs", type=int, default=4, choices=range(1, 33), metavar="1-32",
                        help="files in flight at once (default 4)")
    verify.set_defaults(handler=cmd_storage_verify)


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


def _size(count: int, size: int) -> str:
    return f"{count} files, {size / MB:.1f} MB ({size:,} bytes)"


def _listed(lines: list[str]) -> list[str]:
    more = len(lines) - LISTED
    return lines[:LISTED] + ([f"    … and {more} more"] if more > 0 else [])


def _print_copy(report: CopyReport) -> None:
    print(f"本地文件 / local files: {_size(report.files, report.bytes)}")
    print(f"已复制 / copied: {_size(report.copied, report.copied_bytes)}")
    print(f"已在存储中且一致 / already there: {_size(report.present, report.present_bytes)}")
    if report.replaced:
        print(f"存储中内容有误，已重传 / replaced wrong bytes: {len(report.replaced)}")
        print("\n".join(_listed([f"    {sha}" for sha in report.replaced])))
    if report.damaged:
        print(f"本地文件损坏，未复制 / local file damaged, not copied: {len(report.damaged)}",
              file=sys.stderr)
        print("\n".join(_listed([f"    {sha}" for sha in report.damaged])), file=sys.stderr)
    if report.failed:
        print(f"失败 / failed: {len(report.failed)}", file=sys.stderr)
        print("\n".join(_listed([f"    {sha}: {why}" for sha, why in report.failed])),
              file=sys.stderr)


def cmd_storage_migrate(config: AppConfig, args: argparse.Namespace) -> int:
    source = (LocalEvidenceStore(args.source) if args.source
              else local_store(config.storage.data_dir))
    try:
        target = s3_store(config.storage, needed_for="to migrate to s3")
    except StorageError as exc:
        print(f"配置不完整 / configuration incomplete:\n{exc}", file=sys.stderr)
        return 2

    def progress(done: int, total: int, report: CopyReport) -> None:
        print(f"\r{done}/{total}", end="", file=sys.stderr, flush=True)

    print(f"{source.describe()} → {target.describe()}", file=sys.stderr)
    try:
        report = copy_to_bucket(source, target, jobs=args.jobs, on_progress=progress)
    except StorageError as exc:
        print(f"\n对象存储不可用 / object storage unusable: {exc}", file=sys.stderr)
        return 1
    finally:
        target.close()
    print(file=sys.stderr)
    _print_copy(report)
    if not report.ok:
        print("有文件未能复制，可修正后重新运行（已复制的不会重传）/ some files were not "
              "copied; fix the cause and run again (what is there is not sent twice)",
              file=sys.stderr)
        return 1
    if config.storage.backend != "s3":
        print('全部文件已复制并校验。下一步：在 [storage] 中设置 backend = "s3" 并重启机器人 / '
              'every file is copied and verified; next, set [storage] backend = "s3" and '
              "restart the bot")
    return 0


def _print_verify(report: VerifyReport, quick: bool) -> None:
    how = "大小 / size" if quick else "SHA-256"
    print(f"已核对 / checked ({how}): {report.rows} evidence rows, "
          f"{_size(report.contents, report.bytes)} intact")
    for label, ids in (("缺失 / missing", report.missing),
                       ("内容不符 / altered", report.mismatched)):
        if ids:
            shown = ", ".join(f"E{i}" for i in ids[:LISTED * 5])
            more = f" … and {len(ids) - LISTED * 5} more" if len(ids) > LISTED * 5 else ""
            print(f"{label}: {len(ids)}: {shown}{more}", file=sys.stderr)
    if report.failed:
        print(f"无法读取 / could not be read: {len(report.failed)}", file=sys.stderr)
        print("\n".join(_listed([f"    E{i}: {why}" for i, why in report.failed])),
              file=sys.stderr)


def cmd_storage_verify(config: AppConfig, args: argparse.Namespace) -> int:
    which = args.store or config.storage.backend
    try:
        store: EvidenceStore = (
            s3_store(config.storage, needed_for="to verify the bucket") if which == "s3"
            else local_store(config.storage.data_dir))
    except StorageError as exc:
        print(f"配置不完整 / configuration incomplete:\n{exc}", file=sys.stderr)
        return 2

    async def contents() -> list[repo.StoredContent]:
        db = Database(config.database.url)
        try:
            await check_schema(db)
            async with db.session() as session:
                return await repo.stored_contents(session=session)
        finally:
            await db.dispose()

    def progress(done: int, total: int) -> None:
        print(f"\r{done}/{total}", end="", file=sys.stderr, flush=True)

    try:
        listed = asyncio.run(contents())
        print(store.describe(), file=sys.stderr)
        report = verify_store(store, listed, quick=args.quick, jobs=args.jobs,
                              on_progress=progress)
    except SchemaBehind as exc:
        print(f"数据库结构落后 / {exc}", file=sys.stderr)
        return 3
    except StorageError as exc:
        print(f"\n佐证存储不可用 / evidence storage unusable: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(file=sys.stderr)
    _print_verify(report, args.quick)
    return 0 if report.ok else 1
