"""The 09:00 round and the first start at scale, on SQLite and PostgreSQL (`bench.reminders`).

Every figure is a ratio within one run: the current code against the old per-row code
(`bench.reminders_legacy`, the round as it was at 8225b4c) on copies of the same database,
and handler throughput with a round against a control run without one, interleaved.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from telegram import CallbackQuery, Chat, Message, MessageEntity, Update, User
from telegram.request import BaseRequest, RequestData

from bench.limits import SendAtOnce
from bench.reminders_data import (
    GROUP_CHAT,
    LOADED_AT,
    ROUND_AT,
    Dataset,
    build,
)
from bench.reminders_legacy import LegacyRound
from bot.app import build_application
from bot.config import AppConfig
from bot.core import heap
from bot.core.clock import FrozenClock
from bot.delivery import merge
from bot.reminders.lists import KIND as ESCALATION
from bot.reminders.lists import OWNER_KIND
from bot.services import Services, build_services
from db.migrate import upgrade
from db.models import OutboxMessage, OutboxState, ReminderCursor
from db.session import normalise_url

BOT_ID = 7_000_000_014
UNLIMITED_FLOOD = {"burst": 1000, "per_minute": 6000, "stranger_burst": 1000,
                   "stranger_per_minute": 6000, "strangers_burst": 10000,
                   "strangers_per_minute": 60000}
TABLES = ("campaigns", "units", "persons", "tasks", "reminder_cursors", "reminder_snoozes",
          "outbox", "reminder_policy_seen")


# Where the runs' databases live ----------------------------------------------------------


class Store(ABC):
    """A populated template and a fresh copy of it for every run."""

    kind = ""

    @abstractmethod
    async def template(self, data: Dataset) -> None: ...

    @abstractmethod
    async def fresh(self) -> str: ...

    @abstractmethod
    async def discard(self, url: str) -> None: ...

    async def close(self) -> None:
        return None


class SQLiteStore(Store):
    kind = "SQLite"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "template.db"
        self._n = itertools.count(1)

    async def template(self, data: Dataset) -> None:
        await asyncio.to_thread(self._write, data)

    def _write(self, data: Dataset) -> None:
        self.path.unlink(missing_ok=True)
        upgrade(f"sqlite:///{self.path}")
        # Plain sqlite3 with values as SQLAlchemy stores them (UTC instants without zone,
        # microseconds always written): a million outbox rows in seconds, not minutes.
        conn = sqlite3.connect(self.path)
        try:
            for name in TABLES:
                rows = data.rows(name)
                if not rows:
                    continue
                columns = list(rows[0])
                conn.executemany(
                    f"INSERT INTO {name} ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})",
                    ([_sqlite_value(row[c]) for c in columns] for row in rows))
            conn.commit()
        finally:
            conn.close()

    async def fresh(self) -> str:
        target = self.directory / f"run{next(self._n)}.db"
        await asyncio.to_thread(shutil.copyfile, self.path, target)
        return f"sqlite:///{target}"

    async def discard(self, url: str) -> None:
        path = make_url(url).database or ""

        def remove() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        await asyncio.to_thread(remove)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt_time):
        return value.strftime("%H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


class PostgresStore(Store):
    """Databases next to the one the URL names: `<name>_tpl` and `<name>_run<N>`."""

    kind = "PostgreSQL"

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.url = parsed
        self.base = parsed.database or "inspectbot_bench"
        self._n = itertools.count(1)

    def _url(self, database: str) -> str:
        return normalise_url(self.url.set(database=database).render_as_string(
            hide_password=False))

    async def _admin(self, *statements: str) -> None:
        engine = create_async_engine(self._url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                for statement in statements:
                    await conn.execute(text(statement))
        finally:
            await engine.dispose()

    async def template(self, data: Dataset) -> None:
        tpl = f"{self.base}_tpl"
        await self._admin(f'DROP DATABASE IF EXISTS "{tpl}" WITH (FORCE)',
                          f'CREATE DATABASE "{tpl}"')
        await asyncio.to_thread(upgrade, self._url(tpl))
        engine = create_async_engine(self._url(tpl))
        try:
            async with engine.connect() as conn:
                raw = await conn.get_raw_connection()
                driver: Any = raw.driver_connection  # asyncpg's own: COPY is its fast path
                for name in TABLES:
                    rows = data.rows(name)
                    if not rows:
                        continue
                    columns = list(rows[0])
                    await driver.copy_records_to_table(
                        name, columns=columns,
                        records=[tuple(row[c] for c in columns) for row in rows])
                for name in ("campaigns", "units", "persons", "tasks"):
                    await driver.execute(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), max(id)) "
                        f"FROM {name}")
                await driver.execute("ANALYZE")
        finally:
            await engine.dispose()

    async def fresh(self) -> str:
        name = f"{self.base}_run{next(self._n)}"
        await self._admin(f'DROP DATABASE IF EXISTS "{name}"',
                          f'CREATE DATABASE "{name}" TEMPLATE "{self.base}_tpl"')
        return self._url(name)

    async def discard(self, url: str) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    async def close(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.base}_tpl"')


def _config(url: str, data_dir: Path, **telegram: object) -> AppConfig:
    return AppConfig.model_validate({
        "database": {"url": url},
        "storage": {"data_dir": str(data_dir)},
        "telegram": telegram,
        # The periodic sweep would start the round on its own; the run starts it.
        "reminders": {"sweep_seconds": 3600},
        "quiz": {"load_starter_bank": False},
        "flood": UNLIMITED_FLOOD,
    })


@contextlib.asynccontextmanager
async def _services(store: Store, at: datetime, **telegram: object) -> AsyncIterator[Services]:
    url = await store.fresh()
    with tempfile.TemporaryDirectory() as tmp:
        services = build_services(_config(url, Path(tmp), **telegram), clock=FrozenClock(at))
        heap.settle()  # as the bot's post-init does, once per process
        try:
            yield services
        finally:
            await services.db.dispose()
            await store.discard(url)


async def _count(services: Services, stmt: Any) -> int:
    async with services.session() as s:
        return int((await s.execute(stmt)).scalar_one())


def _due_stmt(at: datetime) -> Any:
    return select(func.count()).select_from(ReminderCursor).where(ReminderCursor.next_at <= at)


async def _queued(services: Services) -> set[tuple[str, int, str, str | None]]:
    async with services.session() as s:
        rows = (await s.execute(
            select(OutboxMessage.key, OutboxMessage.chat_id, OutboxMessage.text,
                   OutboxMessage.reply_markup)
            .where(OutboxMessage.state == OutboxState.PENDING))).all()
    return {(k, c, t, m) for k, c, t, m in rows}


# The round alone, and the first start ---------------------------------------------------


@dataclass
class Timed:
    seconds: float
    due: int
    queued: set[tuple[str, int, str, str | None]]
    left: int
    # CPU seconds of this process (every thread: the loop and the database driver's); on
    # a machine shared with other work it is the steadier figure.
    cpu: float = 0.0
    # Cursors the sweeps took and derived (the current code only).
    derived: int = 0
    # The escalations to the leading group's chat and to the leaders: (rows, chats,
    # messages as the dispatcher's lists), counted when asked.
    lists: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    # The sweeps' batches, and (when asked, SQLite) the outbox's and cursors' rows written.
    batches: int = 0
    rows: tuple[list[Any], list[Any]] | None = None


async def time_round(store: Store, legacy: bool) -> Timed:
    async with _services(store, ROUND_AT) as services:
        due = await _count(services, _due_stmt(ROUND_AT))
        started = time.perf_counter()
        if legacy:
            await LegacyRound(services, services.delivery.outbox).sweep()
        else:
            await services.reminders.sweep()
        seconds = time.perf_counter() - started
        left = await _count(services, _due_stmt(ROUND_AT))
        return Timed(seconds, due, await _queued(services), left)


async def list_messages(services: Services) -> dict[str, tuple[int, int, int]]:
    """The escalations queued for the leading group's chat and for the leaders, and the
    owners' reminders: how many, to how many chats, and how many messages they make as
    lists — the dispatcher's gathering (`merge.LIST_ROWS` of a chat's, oldest first) and
    packing, with the items its merger words, without sending."""
    found = {"group": [0, 0, 0], "leaders": [0, 0, 0], "owners": [0, 0, 0]}
    for kind in (ESCALATION, OWNER_KIND):
        merger = services.delivery.outbox.merger_for(kind)
        assert merger is not None
        async with services.session() as session:
            rows = list((await session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.kind == kind, OutboxMessage.state == OutboxState.PENDING)
                .order_by(OutboxMessage.not_before, OutboxMessage.id)
            )).scalars().all())
        by_chat: dict[int, list[OutboxMessage]] = {}
        for row in rows:
            by_chat.setdefault(row.chat_id, []).append(row)
        for chat_id, waiting in by_chat.items():
            who = ("owners" if kind == OWNER_KIND else
                   "group" if chat_id == GROUP_CHAT else "leaders")
            figures = found[who]
            figures[0] += len(waiting)
            figures[1] += 1
            at = 0
            while at < len(waiting):
                gathered = waiting[at:at + merge.LIST_ROWS]
                if len(gathered) == 1:  # alone: its own message
                    at += 1
                else:
                    async with services.session() as session:
                        header, items = await merger.items(session, gathered,
                                                           services.clock.now())
                    at += merge.fitting(header, [item.line for item in items])
                figures[2] += 1
    return {who: (rows_, chats, messages) for who, (rows_, chats, messages) in found.items()}


# What the first start writes, as plain sqlite3 writes it: the floor under any ORM or view.
_OUTBOX_COLUMNS = ("key", "kind", "chat_id", "person_id", "task_id", "text", "reply_markup",
                   "not_before", "state", "attempts", "created_at")


def _written(url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The outbox's and the cursors' rows of a first start's database, as stored."""
    conn = sqlite3.connect(make_url(url).database or "")
    try:
        outbox = conn.execute(f"SELECT {', '.join(_OUTBOX_COLUMNS)} FROM outbox "
                              "ORDER BY id").fetchall()
        cursors = conn.execute("SELECT subject, subject_id, next_at, derived_at "
                               "FROM reminder_cursors ORDER BY id").fetchall()
    finally:
        conn.close()
    return outbox, cursors


def _write_floor(path: str, outbox: list[tuple[Any, ...]], cursors: list[tuple[Any, ...]],
                 derived: int, batches: int) -> float:
    """The same rows written with plain sqlite3, in transactions like the first start's:
    the cursors placed 5,000 a transaction, then per sweep batch its share of messages
    queued and of cursors moved (upsert by key; update by subject), with the bot's pragmas.
    Seconds; nothing rendered, derived or read."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            conn.execute(f"PRAGMA {pragma}")
        columns = ", ".join(_OUTBOX_COLUMNS)
        queue = (f"INSERT INTO outbox ({columns}) VALUES ({', '.join('?' * len(_OUTBOX_COLUMNS))}) "
                 "ON CONFLICT (key) DO UPDATE SET state = excluded.state "
                 "WHERE outbox.state = 'CANCELLED'")
        place = ("INSERT INTO reminder_cursors (subject, subject_id, next_at, derived_at) "
                 "VALUES (?, ?, ?, ?) ON CONFLICT (subject, subject_id) DO NOTHING")
        move = ("UPDATE reminder_cursors SET next_at = ?, derived_at = ? "
                "WHERE subject = ? AND subject_id = ?")
        moved = [(at, now, subject, subject_id) for subject, subject_id, at, now
                 in random.Random(20261130).sample(cursors, min(derived, len(cursors)))]
        started = time.perf_counter()
        for start in range(0, len(cursors), 5000):
            conn.execute("BEGIN")
            conn.executemany(place, cursors[start:start + 5000])
            conn.execute("COMMIT")
        share = max(1, batches)
        for i in range(share):
            conn.execute("BEGIN")
            conn.executemany(queue, outbox[i * len(outbox) // share:(i + 1) * len(outbox) // share])
            conn.executemany(move, moved[i * len(moved) // share:(i + 1) * len(moved) // share])
            conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


async def write_floor(store: Store, rows: tuple[list[Any], list[Any]], derived: int,
                      batches: int) -> float:
    """`_write_floor` on a fresh copy of the store's template (SQLite only)."""
    url = await store.fresh()
    try:
        return await asyncio.to_thread(_write_floor, make_url(url).database or "", *rows,
                                       derived, batches)
    finally:
        await store.discard(url)


async def time_first_start(store: Store, legacy: bool, *, lists: bool = False,
                           keep_rows: bool = False) -> Timed:
    async with _services(store, LOADED_AT) as services:
        started, cpu = time.perf_counter(), time.process_time()
        if legacy:
            await LegacyRound(services, services.delivery.outbox).start()
        else:
            await services.reminders.reconcile()
            await services.reminders.sweep()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        cursors = await _count(services, select(func.count()).select_from(ReminderCursor))
        left = await _count(services, _due_stmt(LOADED_AT))
        found = await list_messages(services) if lists else {}
        rows = (await asyncio.to_thread(_written, services.db.url)
                if keep_rows and services.db.is_sqlite else None)
        return Timed(seconds, cursors, await _queued(services), left, cpu,
                     services.reminders.stats["cursors"], found,
                     services.reminders.stats["batches"], rows)


# Interactive load through the real Application -------------------------------------------


@dataclass
class _Recorder(BaseRequest):
    """Answers like Telegram and counts; no network."""

    calls: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(10))

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        self.calls += 1
        api = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        result: Any = True
        if api == "getMe":
            result = {"id": BOT_ID, "is_bot": True, "first_name": "bench", "username": "b"}
        elif api in ("sendMessage", "editMessageText"):
            chat = int(params.get("chat_id", 0))
            result = {"message_id": int(params.get("message_id") or next(self._ids)), "date": 0,
                      "chat": {"id": chat, "type": "private"}, "text": params.get("text", ""),
                      "from": {"id": BOT_ID, "is_bot": True, "first_name": "bench"}}
        return 200, json.dumps({"ok": True, "result": result}).encode()


class People:
    """Simulated owners, each doing /tasks, opening a task's card, setting its progress."""

    def __init__(self, owners: list[tuple[int, int, list[int]]], bot: Any) -> None:
        self.bot = bot
        self.queue: deque[tuple[int, int, list[int], int]] = deque(
            (person, tg, tasks, 0) for person, tg, tasks in owners)
        self.ids = itertools.count(1)

    def next_update(self) -> tuple[Update, tuple[int, int, list[int], int]]:
        person, tg, tasks, step = self.queue.popleft()
        user = User(tg, f"人员{person}", is_bot=False)
        chat = Chat(tg, Chat.PRIVATE)
        n = next(self.ids)
        task = tasks[(step // 3) % len(tasks)]
        if step % 3 == 0:
            message = Message(n, ROUND_AT, chat, from_user=user, text="/tasks",
                              entities=[MessageEntity(MessageEntity.BOT_COMMAND, 0, 6)])
            message.set_bot(self.bot)
            update = Update(n, message=message)
        else:
            data = f"task:open:{task}" if step % 3 == 1 else f"task:setp:{task}:{25 + n % 3 * 25}"
            bot_user = User(BOT_ID, "bench", is_bot=True, username="b")
            card = Message(n, ROUND_AT, chat, from_user=bot_user, text="card")
            card.set_bot(self.bot)
            query = CallbackQuery(str(n), user, chat_instance="ci", data=data, message=card)
            query.set_bot(self.bot)
            update = Update(n, callback_query=query)
        return update, (person, tg, tasks, step + 1)


@dataclass
class LoadRun:
    label: str
    updates: int
    seconds: float
    latencies: list[float]
    errors: list[str]
    round_seconds: float | None = None
    round_done: bool = True
    due: int = 0
    left: int = 0

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def p(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


async def load_run(store: Store, owners: list[tuple[int, int, list[int]]], *,
                   round_: str | None, concurrency: int, control_seconds: float,
                   cap_seconds: float) -> LoadRun:
    """Updates from `concurrency` people at a time for `control_seconds`, or with the
    round (`current` or `legacy`) started after a warm-up, until it ends or `cap_seconds`."""
    async with _services(store, ROUND_AT - timedelta(seconds=30)) as services:
        return await _load(services, owners, round_, concurrency, control_seconds, cap_seconds)


async def _load(services: Services, owners: list[tuple[int, int, list[int]]],
                round_: str | None, concurrency: int, control_seconds: float,
                cap_seconds: float) -> LoadRun:
    clock = services.clock
    assert isinstance(clock, FrozenClock)
    if round_ == "legacy":
        # Every sweep of this bot, those a task change schedules included, is the old code.
        legacy = LegacyRound(services, services.delivery.outbox,
                             then=services.reminders.schedule_next)
        services.reminders.sweep = legacy.sweep  # type: ignore[method-assign]
    request = _Recorder()
    app = build_application(services.config, services=services, request=request,
                            updater=False, rate_limiter=SendAtOnce())
    errors: list[str] = []

    async def count_error(_update: object, context: Any) -> None:
        errors.append(str(context.error))

    app.add_error_handler(count_error)
    people = People(owners, app.bot)
    finished: list[tuple[float, float]] = []
    stop = asyncio.Event()

    async def worker() -> None:
        while not stop.is_set():
            update, after = people.next_update()
            started = time.perf_counter()
            await app.process_update(update)
            finished.append((time.perf_counter(), time.perf_counter() - started))
            people.queue.append(after)

    async with app:
        # The reminders' jobs run as in the bot: a task change sweeps its task at once.
        # The dispatcher does not: unprompted sends are `fanout`'s subject.
        services.scheduler.start()
        await services.reminders.start()
        workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
        await asyncio.sleep(3.0)  # warm-up
        due = left = 0
        round_seconds = None
        done = True
        t0 = time.perf_counter()
        if round_ is None:
            await asyncio.sleep(control_seconds)
        else:
            clock.set(ROUND_AT)
            due = await _count(services, _due_stmt(ROUND_AT))
            sweep = asyncio.create_task(services.reminders.sweep())
            finished_in, _ = await asyncio.wait({sweep}, timeout=cap_seconds)
            done = bool(finished_in)
            round_seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        stop.set()
        await asyncio.gather(*workers)
        if round_ is not None:
            if not done:
                sweep.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweep
            left = await _count(services, _due_stmt(ROUND_AT))
        services.scheduler.shutdown()
    window = [lat for end, lat in finished if t0 <= end <= t1]
    return LoadRun(round_ or "control", len(window), t1 - t0, window, errors, round_seconds,
                   done, due, left)


# The report ---------------------------------------------------------------------------


def _stores(backends: list[str], tmp: Path, pg_url: str) -> list[Store]:
    stores: list[Store] = []
    for backend in backends:
        if backend == "sqlite":
            stores.append(SQLiteStore(tmp))
        elif not pg_url:
            print("  (PostgreSQL skipped: give --database-url postgresql://… or "
                  "BENCH_DATABASE_URL)")
        else:
            stores.append(PostgresStore(pg_url))
    return stores


async def round_part(size: int, runs: int, backends: list[str], pg_url: str,
                     concurrency: int, load_runs: int, load_seconds: float = 20.0,
                     legacy_load: bool = True) -> None:
    started = time.perf_counter()
    data = await asyncio.to_thread(build, size, history=True)
    print(f"the 09:00 round: {size} tasks, {data.open_tasks} open, {data.overdue_open} open and "
          f"overdue; {len(data.rows('outbox'))} reminders already sent; data built in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for store in _stores(backends, Path(tmp), pg_url):
            t = time.perf_counter()
            await store.template(data)
            print(f"\n[{store.kind}] template written in {time.perf_counter() - t:.0f} s",
                  flush=True)
            try:
                if runs > 0:
                    await _round_alone(store, runs)
                await _round_under_load(store, data, concurrency, load_runs, load_seconds,
                                        legacy_load)
            finally:
                await store.close()


async def _round_alone(store: Store, runs: int) -> None:
    current: list[Timed] = []
    legacy: list[Timed] = []
    for n in range(runs):
        current.append(await time_round(store, legacy=False))
        if n == 0:  # the old round takes a minute or more: once, between the current runs
            legacy.append(await time_round(store, legacy=True))
    c = statistics.median(r.seconds for r in current)
    old = legacy[0]
    print(f"  round alone: {current[0].due} due cursors")
    print(f"    current  {', '.join(f'{r.seconds:.2f}' for r in current)} s (median {c:.2f} s, "
          f"{current[0].due / c:,.0f} cursors/s), {len(current[0].queued)} queued, "
          f"{current[0].left} left due")
    print(f"    old      {old.seconds:.2f} s ({old.due / old.seconds:,.0f} cursors/s), "
          f"{len(old.queued)} queued, {old.left} left due")
    same = current[0].queued == old.queued
    print(f"    old / current = {old.seconds / c:.1f}x; the same messages queued: "
          f"{'yes' if same else 'NO'}")
    if not same:
        only_old, only_new = old.queued - current[0].queued, current[0].queued - old.queued
        print(f"      only old {len(only_old)}: {sorted(only_old)[:3]}")
        print(f"      only current {len(only_new)}: {sorted(only_new)[:3]}")


async def _round_under_load(store: Store, data: Dataset, concurrency: int, runs: int,
                            window: float, legacy_load: bool) -> None:
    """`runs` pairs of a control run and a run with the round, each measured over the same
    `window` seconds, the order alternating (control first, then the round first) so a
    machine growing busier or quieter during the pairs does not favour either side."""
    if runs <= 0:
        return
    print(f"  round under load: {concurrency} updates in flight from {len(data.owners)} "
          "people (/tasks, a card, its progress), through Application.process_update; "
          f"{runs} pairs of {window:.0f} s without the round and the round's first "
          f"{window:.0f} s, order alternating", flush=True)
    rows: list[tuple[LoadRun, LoadRun]] = []
    for n in range(runs):
        labels = ("current", "legacy") if n == 0 and legacy_load else ("current",)
        for label in labels:
            async def control() -> LoadRun:
                return await load_run(store, data.owners, round_=None,
                                      concurrency=concurrency, control_seconds=window,
                                      cap_seconds=0)

            async def loaded(label: str = label) -> LoadRun:
                return await load_run(store, data.owners, round_=label,
                                      concurrency=concurrency, control_seconds=0,
                                      cap_seconds=window)

            if n % 2 == 0:
                pair = (await control(), await loaded())
            else:
                second = await loaded()
                pair = (await control(), second)
            rows.append(pair)
            _print_pair(*pair)
    ratios = [loaded.rate / control.rate for control, loaded in rows if loaded.label == "current"]
    p99 = [loaded.p(0.99) / control.p(0.99) for control, loaded in rows
           if loaded.label == "current" and control.p(0.99)]
    print(f"    current: throughput during the round / control = "
          f"{', '.join(f'{r:.2f}' for r in ratios)} (median {statistics.median(ratios):.2f}); "
          f"p99 during the round / control: median {statistics.median(p99):.2f}", flush=True)


def _print_pair(control: LoadRun, loaded: LoadRun) -> None:
    locked = sum("database is locked" in e for e in control.errors + loaded.errors)
    done = loaded.due - loaded.left
    state = (f"round done in {loaded.round_seconds:.1f} s" if loaded.round_done else
             f"round {done} of {loaded.due} cursors in {loaded.seconds:.0f} s "
             f"({done / loaded.seconds:.0f}/s)")
    print(f"    {loaded.label:<8} control {control.rate:6.1f} upd/s p50 {control.p(0.5):5.0f} ms "
          f"p99 {control.p(0.99):5.0f} ms | with round {loaded.rate:6.1f} upd/s "
          f"p50 {loaded.p(0.5):5.0f} ms p99 {loaded.p(0.99):5.0f} ms = "
          f"{loaded.rate / control.rate:.2f} of control; {state}; errors "
          f"{len(control.errors)}+{len(loaded.errors)} (database is locked: {locked})",
          flush=True)


async def first_start_part(size: int, runs: int, backends: list[str], pg_url: str,
                           legacy: bool = True) -> None:
    data = await asyncio.to_thread(build, size, history=False)
    print(f"first start after a bulk load: {size} tasks ({data.open_tasks} open, "
          f"{data.overdue_open} overdue), no cursors yet", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for store in _stores(backends, Path(tmp), pg_url):
            await store.template(data)
            try:
                current = [await time_first_start(store, legacy=False, lists=not i,
                                                  keep_rows=not i) for i in range(runs)]
                first = current[0]
                floor = (await write_floor(store, first.rows, first.derived, first.batches)
                         if first.rows is not None else None)
                old = await time_first_start(store, legacy=True) if legacy else None
            finally:
                await store.close()
            c = statistics.median(r.seconds for r in current)
            against = "old code not run"
            if old is not None:
                same = "yes" if current[0].queued == old.queued else "NO"
                against = (f"old {old.seconds:.1f} s = {old.seconds / c:.1f}x; the same "
                           f"messages as the old code: {same}")
            cpu = statistics.median(r.cpu for r in current)
            print(f"  [{store.kind}] current {', '.join(f'{r.seconds:.2f}' for r in current)} s "
                  f"(median {c:.2f} s wall, {cpu:.2f} s CPU); {current[0].due} cursors "
                  f"({current[0].derived} derived), "
                  f"{len(current[0].queued)} queued, {current[0].left} left due; {against}",
                  flush=True)
            if floor is not None:
                print(f"    the same {len(first.rows[0]) if first.rows else 0} messages and "
                      f"{first.due} cursors written with plain sqlite3 in "
                      f"{first.batches} + {-(-first.due // 5000)} transactions alike: "
                      f"{floor:.2f} s ({floor / first.seconds:.2f} of the first start)",
                      flush=True)
            for who, (queued, chats, lists) in current[0].lists.items():
                what = "reminders to the owners" if who == "owners" else f"escalations to the {who}"
                print(f"    {what}: {queued} to {chats} chats as "
                      f"{lists} messages ({queued / max(1, lists):.1f} a message)",
                      flush=True)


def quiet_logs() -> None:
    # Handler errors are counted by the run itself; their tracebacks would drown the report.
    logging.disable(logging.CRITICAL)

