"""`inspectbot demo`: the sandbox Bot API server, the bot and the sample campaign, one command.

No token and no Telegram: the bot polls a local sandbox server, and a browser page at the
printed URL lets a person play the office, a leader, two responsible persons or staff.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Any

from bot.app import AppType, build_application
from bot.config import AppConfig, TelegramConfig
from bot.demo.cast import LEADERS_GROUP_ID, DemoRole, cast_demo
from bot.services import build_services
from bot.tables.cli import EXAMPLES_DIR, cmd_seed_demo
from db.models import Role
from sandbox import SandboxServer
from sandbox.limits import RateLimitConfig

DEMO_TOKEN = "424242:DEMO-SANDBOX-TOKEN"


def add_commands(subparsers: Any) -> None:
    demo = subparsers.add_parser(
        "demo", help="run the bot against a local sandbox with the sample campaign (no token)"
    )
    demo.add_argument("--port", type=int, default=8765, help="web chat and Bot API port")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--dir", type=Path, default=EXAMPLES_DIR, help="the sample campaign")
    demo.add_argument(
        "--for-seconds", type=float, default=0.0,
        help="stop by itself after this long (0 = until Ctrl-C)",
    )
    demo.set_defaults(handler=cmd_demo)


def demo_config(config: AppConfig, server: SandboxServer | None = None) -> AppConfig:
    """The demo keeps its own SQLite file so it never touches a real database."""
    database = config.database.model_copy(
        update={"url": f"sqlite:///{config.storage.data_dir / 'demo.db'}"}
    )
    telegram = config.telegram
    if server is not None:
        telegram = TelegramConfig.model_validate(
            {
                **config.telegram.model_dump(),
                "token": server.token,
                "base_url": server.base_url,
                "base_file_url": server.base_file_url,
                "mode": "polling",
            }
        )
    return config.model_copy(update={"database": database, "telegram": telegram})


def cmd_demo(config: AppConfig, args: argparse.Namespace) -> int:
    seeded = demo_config(config)
    code = cmd_seed_demo(seeded, argparse.Namespace(dir=args.dir))
    if code != 0:
        return code
    return asyncio.run(run_demo(config, host=args.host, port=args.port,
                                for_seconds=args.for_seconds))


async def _cast(config: AppConfig) -> list[DemoRole]:
    services = build_services(config)
    try:
        async with services.session() as session:
            return await cast_demo(session)
    finally:
        await services.db.dispose()


class Demo:
    """The sandbox server and the bot, started and stopped together."""

    def __init__(self, config: AppConfig, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.server = SandboxServer(
            token=DEMO_TOKEN,
            host=host,
            port=port,
            bot_username="yingjian_demo_bot",
            # A person's chat tolerates a short burst (a reply and a card), as on Telegram.
            rate_limits=RateLimitConfig(private_burst=3),
        )
        self.cast: list[DemoRole] = []
        self._app: AppType | None = None

    @property
    def url(self) -> str:
        return self.server.url

    async def start(self) -> None:
        await self.server.start()
        cfg = demo_config(self.config, self.server)
        self.cast = await _cast(cfg)
        for member in self.cast:
            self.server.state.add_user(
                member.name, user_id=member.telegram_id, role=member.label, started=True
            )
        leaders = [m.telegram_id for m in self.cast if m.role in (Role.ADMIN, Role.LEADER)]
        if leaders:
            self.server.state.add_group("迎检工作领导小组", leaders, chat_id=LEADERS_GROUP_ID)
        app = build_application(cfg)
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        await app.start()
        self._app = app

    async def stop(self) -> None:
        app, self._app = self._app, None
        if app is not None:
            if app.updater is not None:
                await app.updater.stop()
            await app.stop()
            if app.post_shutdown is not None:
                await app.post_shutdown(app)
            await app.shutdown()
        await self.server.stop()


async def run_demo(config: AppConfig, *, host: str, port: int, for_seconds: float) -> int:
    demo = Demo(config, host=host, port=port)
    await demo.start()
    _announce(demo.url, demo.cast)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        if for_seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=for_seconds)
        else:
            await stop.wait()
    finally:
        await demo.stop()
    return 0


def _announce(url: str, cast: list[DemoRole]) -> None:
    lines = [
        "",
        "迎检协同机器人演示已启动 / the demo is running",
        f"  在浏览器打开 / open in a browser:  {url}/",
        "  可扮演的用户 / people you can play:",
        *(f"    {m.label:<6} {m.name}  (id {m.telegram_id})" for m in cast),
        "  按 Ctrl-C 结束 / press Ctrl-C to stop",
        "",
    ]
    print("\n".join(lines), flush=True)
