"""`inspectbot` command line: run the bot, the demo, migrations and the office's batch jobs.

`run` and `db` live here; each feature adds its own subcommands through the
`add_commands(subparsers)` function of its `bot/<feature>/cli.py`, listed in `_FEATURES`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from bot.app import run_bot
from bot.backup import cli as backup_cli
from bot.config import AppConfig, ConfigError, load_config, resolve_config_path
from bot.core import cli as core_cli
from bot.core import logs
from bot.core.cli import ensure_data_dir
from bot.demo import cli as demo_cli
from bot.evidence import cli as evidence_cli
from bot.indicators import cli as indicators_cli
from bot.quiz import cli as quiz_cli
from bot.reports import cli as reports_cli
from bot.tables import cli as tables_cli
from bot.workers import Supervisor, WorkerSlot, port_answers, refusal, worker_command
from db import migrate
from db.session import Database

log = logging.getLogger("inspectbot")

Handler = Callable[[AppConfig, argparse.Namespace], int]

# Order is the order of `inspectbot --help`.
_FEATURES: tuple[ModuleType, ...] = (core_cli, demo_cli, tables_cli, quiz_cli, evidence_cli,
                                     reports_cli, indicators_cli, backup_cli)

NO_TOKEN = (
    "没有配置 Telegram 令牌：请在 config.toml 的 [telegram] token 中填写，或设置环境变量 "
    "INSPECTBOT_TOKEN。想先试用，请运行 `make demo`（本地沙箱，无需令牌）。\n"
    "No Telegram token configured: set [telegram] token in config.toml or INSPECTBOT_TOKEN. "
    "To try the bot without one, run `make demo` (local sandbox)."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inspectbot", description="迎检协同机器人 — inspection preparation bot"
    )
    parser.add_argument("-c", "--config", help="TOML configuration (default: config.toml if present)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = subparsers.add_parser("run", help="run the bot (polling or webhook, per config)")
    run.add_argument(
        "--workers", type=_positive, default=1, metavar="N",
        help="webhook mode on PostgreSQL: N processes on ports webhook_port … webhook_port+N-1 "
             "behind a reverse proxy (default 1)")
    # Set by `--workers N` for each process it starts; not for people.
    run.add_argument("--worker", type=WorkerSlot.parse, default=None, help=argparse.SUPPRESS)
    run.set_defaults(handler=cmd_run)
    db = subparsers.add_parser(
        "db", help="database schema: upgrade or status; tallies: check the kept summary "
                   "counts against the tasks and count again where they differ")
    db.add_argument("action", choices=("upgrade", "status", "tallies"))
    db.set_defaults(handler=cmd_db)
    for feature in _FEATURES:
        feature.add_commands(subparsers)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def cmd_run(config: AppConfig, args: argparse.Namespace) -> int:
    if not config.telegram.has_token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    refused = refusal(workers=args.workers, mode=config.telegram.mode,
                      database_url=config.database.url)
    if refused is not None:
        print(refused, file=sys.stderr)
        return 2
    ensure_data_dir(config)
    if args.workers > 1:
        config_path = resolve_config_path(args.config)
        telegram = config.telegram
        return Supervisor(
            lambda slot: worker_command(config_path, verbose=args.verbose, slot=slot),
            args.workers,
            ready=lambda slot: port_answers(telegram.webhook_listen,
                                            slot.port(telegram.webhook_port)),
        ).run()
    return run_bot(config, args.worker)


def cmd_db(config: AppConfig, args: argparse.Namespace) -> int:
    ensure_data_dir(config)
    if args.action == "upgrade":
        migrate.upgrade(config.database.url)
        print("数据库已是最新结构 / schema is up to date")
        return 0

    if args.action == "tallies":
        return asyncio.run(_tallies(config))

    async def status() -> int:
        db = Database(config.database.url)
        try:
            state = await migrate.schema_state(db.engine)
        finally:
            await db.dispose()
        print(f"current: {state.current or 'nothing'}\nexpected: {state.expected}")
        return 0 if state.up_to_date else 1

    return asyncio.run(status())


async def _tallies(config: AppConfig) -> int:
    """0 when every campaign's kept counts equal its tasks; 1 when some had to be counted
    again (they are right now, but something dropped or disabled the triggers)."""
    from bot.reports.tallies import check_tallies

    db = Database(config.database.url)
    try:
        found = await check_tallies(db, datetime.now(UTC), repair=True)
    finally:
        await db.dispose()
    for check in found:
        if check.differing:
            print(f"活动 {check.campaign_id}：{check.differing} 组计数与任务不符，已按任务重新统计 / "
                  f"campaign {check.campaign_id}: {check.differing} groups differed from the "
                  f"tasks; counted again")
        else:
            print(f"活动 {check.campaign_id}：{check.groups} 组计数与任务一致 / "
                  f"campaign {check.campaign_id}: {check.groups} groups match the tasks")
    return 1 if any(check.rebuilt for check in found) else 0


def setup_logging(config: AppConfig, verbose: bool) -> logging.Handler:
    """Levels and the redacting filter (`bot.core.logs`): no secret, code or phone logged."""
    return logs.setup_logging(verbose=verbose, secrets=config.secrets)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(resolve_config_path(args.config))
    except ConfigError as exc:
        print(f"配置错误 / configuration error:\n{exc}", file=sys.stderr)
        return 2
    setup_logging(config, args.verbose)
    handler: Handler = args.handler
    return handler(config, args)


def run_async(coro: Any) -> int:
    result = asyncio.run(coro)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
