"""`inspectbot` command line: run the bot, the demo, migrations and the office's batch jobs.

Each feature adds its subcommands through an `add_commands(subparsers)` function in its own
`bot/commands_*.py` module, listed in `_FEATURE_MODULES`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from bot.config import AppConfig, ConfigError, load_config, resolve_config_path

log = logging.getLogger("inspectbot")

Handler = Callable[[AppConfig, argparse.Namespace], int]

# Order is the order of `inspectbot --help`.
_FEATURE_MODULES = ("bot.core.cli", "bot.demo.cli", "bot.tables.cli",
                    "bot.quiz.cli", "bot.evidence.cli", "bot.reports.cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inspectbot", description="迎检协同机器人 — inspection preparation bot"
    )
    parser.add_argument("-c", "--config", help="TOML configuration (default: config.toml if present)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _FEATURE_MODULES:
        importlib.import_module(name).add_commands(subparsers)
    return parser


class _RedactToken(logging.Filter):
    """Telegram URLs carry the bot token (`/bot<token>/method`): never let it reach a log."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg = message.replace(self.token, "<token>")
                record.args = None
        return True


def setup_logging(config: AppConfig | None, verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL at INFO, token included.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # jieba logs its dictionary loading at DEBUG through a handler of its own.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    token = config.telegram.token.get_secret_value() if config else ""
    for handler in logging.getLogger().handlers:
        handler.addFilter(_RedactToken(token))


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
