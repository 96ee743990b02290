"""`inspectbot demo`: the sandbox Bot API server, the bot and the sample campaign, one command.

No token and no Telegram: the bot polls a local sandbox server, and a browser page at the
printed URL lets a person play anyone on the sample roster.

The demo keeps its own SQLite file, `<data_dir>/demo.db`. The first run builds it: the
sample campaign dated around that day and brought to mid-flight (`bot.demo.seed`). Every
later run keeps it as the user left it, and only re-creates in the fresh sandbox what the
bot already refers to: the simulated people (with the same user ids), the leading group's
chat and the evidence files. `--fresh` sets the database aside and starts over.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.app import AppType, build_application
from bot.config import AppConfig, TelegramConfig
from bot.core.errors import DomainError
from bot.demo.cast import (
    LEADERS_GROUP_ID,
    LEADERS_GROUP_TITLE,
    DemoRole,
    demo_people,
    leaders_group,
)
from bot.demo.sample import load_sample
from bot.demo.seed import Seeded, seed_demo
from bot.evidence.store import EvidenceStore, local_store
from bot.tables.cli import EXAMPLES_DIR
from bot.texts import Texts
from db import migrate
from db.models import EvidenceKind, TaskStatus
from db.repositories import demo as demo_repo
from db.repositories.demo import StoredFile
from db.session import Database

if TYPE_CHECKING:  # the sandbox (and aiohttp under it) is loaded only when a demo runs
    from sandbox import SandboxServer

log = logging.getLogger(__name__)

DEMO_TOKEN = "424242:DEMO-SANDBOX-TOKEN"
DEFAULT_PORT = 8765
DB_FILE = "demo.db"
# Written into the SQLite header (`PRAGMA user_version`) once a first run has finished
# seeding, so a database of an older demo, or one left half-built, is never taken for
# the user's own. 2: the county's indicator data is part of the seed.
SEED_FORMAT = 2
STALE_CHAT = "the chat belonged to an earlier run of the demo"


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("a port is a number from 0 to 65535")
    return value


def add_commands(subparsers: Any) -> None:
    demo = subparsers.add_parser(
        "demo", help="run the bot against a local sandbox with the sample campaign (no token)"
    )
    demo.add_argument("--port", type=_port, default=DEFAULT_PORT,
                      help=f"web chat and Bot API port (default {DEFAULT_PORT}; 0 = any free)")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--dir", type=Path, default=EXAMPLES_DIR, help="the sample campaign")
    demo.add_argument("--fresh", action="store_true",
                      help="set the demo database aside and start again from the sample")
    demo.add_argument(
        "--for-seconds", type=float, default=0.0,
        help="stop by itself after this long (0 = until Ctrl-C)",
    )
    demo.set_defaults(handler=cmd_demo)


def demo_db_path(config: AppConfig) -> Path:
    return config.storage.data_dir / DB_FILE


def demo_config(
    config: AppConfig, server: SandboxServer | None = None, *, path: Path | None = None
) -> AppConfig:
    """The demo keeps its own SQLite file so it never touches a real database, and its
    photos on the local disk so it never writes into the county's bucket."""
    database = config.database.model_copy(
        update={"url": f"sqlite:///{path or demo_db_path(config)}"}
    )
    storage = config.storage.model_copy(update={"backend": "local"})
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
    return config.model_copy(
        update={"database": database, "telegram": telegram, "storage": storage})


def seed_format(path: Path) -> int:
    """The demo format a database file was seeded with; 0 for anything else."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return int(db.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error:
        return 0


def keeps_database(path: Path, *, fresh: bool) -> bool | None:
    """True: a database this demo seeded, kept. False: one to set aside. None: none yet."""
    if not path.exists():
        return None
    return not fresh and seed_format(path) == SEED_FORMAT


def _sidecars(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _set_aside(path: Path) -> Path:
    """Rename the database (and its WAL files) out of the way; nothing is deleted."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}-{stamp}{path.suffix}")
    for source, moved in zip(_sidecars(path), _sidecars(target), strict=True):
        if source.exists():
            os.replace(source, moved)
    return target


@dataclass(frozen=True)
class Prepared:
    """What start-up found or made: a new seed, or the user's database kept."""

    path: Path
    seeded: Seeded | None
    set_aside: Path | None = None


async def prepare_database(
    config: AppConfig, sample_dir: Path, today: date, *, fresh: bool = False
) -> Prepared:
    """Seed the demo database on the first run; otherwise keep it (schema brought up)."""
    path = demo_db_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    set_aside = None
    if keeps_database(path, fresh=fresh) is False:
        set_aside = _set_aside(path)
    if path.exists():
        await asyncio.to_thread(migrate.upgrade, demo_config(config).database.url)
        return Prepared(path, None)
    # Built beside the real file and renamed at the end: a run stopped halfway leaves no
    # database that a later run would mistake for a finished one.
    partial = path.with_name(path.name + ".partial")
    for leftover in _sidecars(partial):
        leftover.unlink(missing_ok=True)
    building = demo_config(config, path=partial)
    await asyncio.to_thread(migrate.upgrade, building.database.url)
    sample = await asyncio.to_thread(load_sample, sample_dir, today)
    seeded = await seed_demo(building, sample, today)
    with contextlib.closing(sqlite3.connect(partial)) as db:
        db.execute(f"PRAGMA user_version = {SEED_FORMAT}")
        db.commit()
    os.replace(partial, path)
    return Prepared(path, seeded, set_aside)


class PortUnavailable(Exception):
    """The sandbox could not listen where the demo was told to."""

    def __init__(self, host: str, port: int, error: OSError) -> None:
        super().__init__(f"{host}:{port}: {error}")
        self.host = host
        self.port = port
        self.error = error

    @property
    def in_use(self) -> bool:
        return self.error.errno == errno.EADDRINUSE


def _read_files(store: EvidenceStore, files: list[StoredFile]) -> list[tuple[StoredFile, bytes]]:
    found = []
    for item in files:
        if store.has(item.sha256):
            with store.open(item.sha256) as stream:
                found.append((item, stream.read()))
    return found


class Demo:
    """The sandbox server and the bot, started and stopped together."""

    def __init__(
        self,
        config: AppConfig,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        sample_dir: Path = EXAMPLES_DIR,
        fresh: bool = False,
        today: date | None = None,
    ) -> None:
        self.config = config
        self.sample_dir = sample_dir
        self.fresh = fresh
        self.today = today
        from sandbox import SandboxServer
        from sandbox.limits import RateLimitConfig

        self.server = SandboxServer(
            token=DEMO_TOKEN,
            host=host,
            port=port,
            bot_username="yingjian_demo_bot",
            # A person's chat tolerates a short burst (a reply and a card), as on Telegram.
            rate_limits=RateLimitConfig(private_burst=3),
        )
        self.people: list[DemoRole] = []
        # Called before a first run's seeding, which takes seconds rather than moments.
        self.on_seeding: Callable[[], None] | None = None
        self.prepared: Prepared | None = None
        self.dropped = 0
        self._app: AppType | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def cast(self) -> list[DemoRole]:
        """The people the demo suggests playing first."""
        return [p for p in self.people if p.in_cast]

    async def start(self) -> None:
        try:
            await self.server.start()
        except OSError as exc:
            raise PortUnavailable(self.server.config.host, self.server.config.port, exc) from None
        try:
            today = self.today or datetime.now(self.config.zone).date()
            kept = keeps_database(demo_db_path(self.config), fresh=self.fresh)
            if not kept and self.on_seeding is not None:
                self.on_seeding()
            self.prepared = await prepare_database(self.config, self.sample_dir, today,
                                                   fresh=self.fresh)
            cfg = demo_config(self.config, self.server)
            await self._populate(cfg)
            app = build_application(cfg)
            await app.initialize()
            if app.post_init is not None:
                await app.post_init(app)
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=10)
            await app.start()
            self._app = app
        except BaseException:
            await self.server.stop()
            raise

    async def _populate(self, config: AppConfig) -> None:
        """Give the fresh sandbox what the bot refers to; forget what it cannot reach."""
        state = self.server.state
        db = Database(config.database.url)
        try:
            async with db.session() as session:
                self.people = await demo_people(session)
                files = await demo_repo.evidence_files(session=session)
            for person in self.people:
                state.add_user(person.name, user_id=person.telegram_id, role=person.title,
                               language_code="en" if person.language == "en" else "zh-hans",
                               started=True)
            chats = {p.telegram_id for p in self.people}
            leaders = leaders_group(self.people)
            if leaders:
                state.add_group(LEADERS_GROUP_TITLE, leaders, chat_id=LEADERS_GROUP_ID)
                chats.add(LEADERS_GROUP_ID)
            stored = local_store(config.storage.data_dir)
            for item, data in await asyncio.to_thread(_read_files, stored, files):
                state.media.restore(
                    item.file_id, data,
                    kind="photo" if item.kind is EvidenceKind.PHOTO else "document",
                    file_unique_id=item.file_unique_id, file_name=item.file_name,
                    mime_type=item.mime_type,
                )
            async with db.session() as session:
                # Chats of an earlier run that this sandbox does not have (a person no
                # longer linked, a chat made by hand): sending would only end in "chat
                # not found" and a failure report to the office about nothing real.
                self.dropped = await demo_repo.cancel_waiting_outside(
                    session=session, chat_ids=chats, reason=STALE_CHAT
                )
                # Everyone starts unblocked in a fresh sandbox.
                await demo_repo.clear_unreachable(session=session, telegram_ids=chats)
        finally:
            await db.dispose()
        if self.dropped:
            log.info("demo: %d queued messages for chats of an earlier run dropped",
                     self.dropped)

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


def _both(texts: Texts, key: str, **params: object) -> list[str]:
    """A console line in Chinese, then in English."""
    return [texts.plain("zh", key, **params), texts.plain("en", key, **params)]


def port_unavailable_text(texts: Texts, error: PortUnavailable) -> str:
    if error.in_use:
        other = DEFAULT_PORT + 1 if error.port == DEFAULT_PORT else error.port + 1
        lines = _both(texts, "demo.port_busy", port=error.port, other=other)
    else:
        lines = _both(texts, "demo.cannot_listen", host=error.host, port=error.port,
                      reason=error.error.strerror or str(error.error))
    return "\n".join(lines)


def announcement(texts: Texts, demo: Demo) -> str:
    prepared = demo.prepared
    lines = ["", *_both(texts, "demo.running"), f"  {demo.url}/", ""]
    if prepared is not None and prepared.set_aside is not None:
        lines += _both(texts, "demo.set_aside", aside=prepared.set_aside)
    if prepared is not None and prepared.seeded is not None:
        seeded = prepared.seeded
        days = (seeded.inspection_date - seeded.today).days if seeded.inspection_date else 0
        lines += _both(
            texts, "demo.seeded", today=seeded.today.isoformat(), days=days,
            done=seeded.statuses.get(TaskStatus.DONE, 0), tasks=seeded.tasks,
            evidence=seeded.evidence, answers=seeded.quiz_answers,
        )
    elif prepared is not None:
        lines += _both(texts, "demo.kept", path=prepared.path)
    lines += ["", *_both(texts, "demo.cast")]
    lines += [f"    {m.label:<6} {m.name}  (id {m.telegram_id})" for m in demo.cast]
    others = len(demo.people) - len(demo.cast)
    if others > 0:
        lines += _both(texts, "demo.others", count=others)
    lines += ["", *_both(texts, "demo.stop"), ""]
    return "\n".join(lines)


async def run_demo(
    config: AppConfig, *, host: str, port: int, for_seconds: float,
    sample_dir: Path = EXAMPLES_DIR, fresh: bool = False,
) -> int:
    texts = Texts.load(config.bot.default_language)
    demo = Demo(config, host=host, port=port, sample_dir=sample_dir, fresh=fresh)
    demo.on_seeding = lambda: print("\n".join(_both(texts, "demo.seeding")), flush=True)
    try:
        await demo.start()
    except PortUnavailable as exc:
        print(port_unavailable_text(texts, exc), file=sys.stderr)
        return 2
    except DomainError as exc:  # a broken sample (`--dir`): the file and what is wrong
        print("\n".join(_both(texts, exc.message_id, **exc.params)), file=sys.stderr)
        return 1
    print(announcement(texts, demo), flush=True)
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


def cmd_demo(config: AppConfig, args: argparse.Namespace) -> int:
    return asyncio.run(run_demo(
        config, host=args.host, port=args.port, for_seconds=args.for_seconds,
        sample_dir=args.dir, fresh=args.fresh,
    ))
