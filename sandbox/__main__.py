"""Run the sandbox on its own: ``python -m sandbox --port 8081 --users users.json``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
from pathlib import Path
from typing import Any

from .app import SandboxServer
from .config import SandboxConfig
from .faults import FaultConfig
from .limits import RateLimitConfig
from .state import SandboxState


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--token", default=SandboxConfig.token, help="the bot token to accept")
    parser.add_argument("--bot-username", default=SandboxConfig.bot_username)
    parser.add_argument("--bot-name", default=SandboxConfig.bot_first_name)
    parser.add_argument("--users", type=Path, help="JSON file with users and groups to create")
    parser.add_argument("--no-rate-limits", action="store_true", help="turn flood control off")
    parser.add_argument(
        "--private-burst", type=int, default=1, help="messages per private chat burst"
    )
    parser.add_argument("--no-privacy", action="store_true", help="bot sees every group message")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--error-share", type=float, default=0.0, help="share of 500/502 answers")
    parser.add_argument(
        "--drop-share", type=float, default=0.0, help="share of dropped connections"
    )
    parser.add_argument("--flood-share", type=float, default=0.0, help="share of injected 429s")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def populate(state: SandboxState, people: dict[str, Any]) -> None:
    """Create users and groups from ``{"users": [...], "groups": [...]}``."""
    for user in people.get("users", []):
        state.add_user(
            user["first_name"],
            user_id=user.get("id"),
            last_name=user.get("last_name"),
            username=user.get("username"),
            language_code=user.get("language_code", "zh-hans"),
            role=user.get("role"),
            started=bool(user.get("started", False)),
        )
    for group in people.get("groups", []):
        state.add_group(
            group["title"],
            list(group.get("members", [])),
            chat_id=group.get("id"),
            chat_type=group.get("type", "supergroup"),
        )


async def _serve(args: argparse.Namespace) -> None:
    server = SandboxServer(
        SandboxConfig(
            token=args.token,
            bot_username=args.bot_username,
            bot_first_name=args.bot_name,
            host=args.host,
            port=args.port,
            group_privacy=not args.no_privacy,
            rate_limits=RateLimitConfig(
                enabled=not args.no_rate_limits, private_burst=args.private_burst
            ),
            faults=FaultConfig(
                latency_ms=args.latency_ms,
                error_share=args.error_share,
                drop_share=args.drop_share,
                flood_share=args.flood_share,
                seed=args.seed,
            ),
        )
    )
    await server.start()
    if args.users:
        populate(server.state, json.loads(args.users.read_text(encoding="utf-8")))
    print(f"web chat:      {server.url}/")
    print(f"base_url:      {server.base_url}")
    print(f"base_file_url: {server.base_file_url}")
    print(f"token:         {server.token}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(_serve(_parser().parse_args(argv)))


if __name__ == "__main__":
    main()
