"""Interactive throughput of the whole bot through the sandbox, against an echo bot.

    .venv/bin/python -m bench.updates [--tasks 10000] [--seats 24] [--seconds 10]
                                      [--modes app,run] [--database-url postgresql://…]
                                      [--no-sqlite] [--compare CHECKOUT] [--profile DIR]

Three processes besides this one: the sandbox (`python -m sandbox --no-rate-limits`),
the bot under test, and nothing else; this process is the client (the simulated people,
over the sandbox's control API and its event websocket). The bot under test is, in turn:

echo  a bare python-telegram-bot Application (concurrent updates, one MessageHandler that
      replies with the text): the reference every figure is divided by.
app   the full application, `bot.app.build_application` (flood, gate, access checks,
      handlers, database, views), polling the sandbox, with a limiter that sends at once:
      the bot's own capacity.
run   `inspectbot run` pointed at the sandbox, exactly as deployed (its own limiter).

The campaign is `bench.reminders_data` (`--tasks` tasks, 2,000 units, two people per unit)
on a fresh copy of one template database per bot run; reminders are off (the 09:00 round
under load is `bench.reminders round`). A seat is one responsible person and one leader
acting in turn, each waiting for the bot's answer before the next step:
`/tasks`, a press on a task of the list (`task:open`), `/progress <id> <n>`, a note as a
reply to the card, a quiz answer (`/quiz` when no poll waits), and the leader's `/summary`.
An echo seat sends one text and waits for its echo.

Per bot, two phases after a warm-up: saturation (every seat acting at once, closed loop)
and half of saturation (arrivals at half the saturated rate, open loop, latency counted
from the arrival). Figures: updates/s, p50/p99 latency, the bot process's CPU time per
update (from /proc), each also as a ratio to the echo bot in the same run, and the
median latency of each step at half load.

`--compare CHECKOUT` also runs the app from another checkout of the project (say, main
before a change: `git worktree add --detach /tmp/before main`), right after the echo and
before this checkout's app, and prints this app's figures as ratios to that one. The
database is migrated by this checkout, so the other one must accept its schema revision.
`--profile DIR` records py-spy (raw stacks) of the bot and the sandbox in each saturated
phase, without stopping them for each sample (`--nonblocking`): stopping both 200 times a
second halved the bot's throughput and stalled its updates.

`python -m bench.updates statements [N]`: N updates of the reminders benchmark's people
(/tasks, a card, its progress) through `Application.process_update` in this process: SQL
statements and pool connections per update and the median time of each kind (SQLite).

`python -m bench.updates pacing [N]`: the limiter alone — N button presses by as many
people (answerCallbackQuery, the card's edit, one reply each) through `Pacing` and through
PTB's `AIORateLimiter`, in one process: the ceiling each puts on `inspectbot run`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

TOKEN = "123456:SANDBOX-TOKEN"
PYTHON = sys.executable
ROOT = Path(__file__).resolve().parent.parent
JSON = dict[str, Any]


# The bots under test, each in its own process ------------------------------------------


def serve_echo(base_url: str) -> None:
    """A bare PTB Application: one MessageHandler that replies with the text."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message is not None and update.message.text:
            await update.message.reply_text(update.message.text)

    app = (ApplicationBuilder().token(TOKEN).base_url(base_url).concurrent_updates(True)
           .build())
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=["message"])


def serve_app(config_path: str) -> None:
    """The full application as `build_application` makes it, sending at once."""


    from bench.limits import SendAtOnce
    from bot.app import ALLOWED_UPDATES, build_application
    from bot.config import load_config

    app = build_application(load_config(Path(config_path)), rate_limiter=SendAtOnce())
    app.run_polling(allowed_updates=ALLOWED_UPDATES)


# Processes and their CPU time ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        for _ in range(100):
            if proc.poll() is not None:
                return
            await asyncio.sleep(0.1)
        proc.kill()
        proc.wait()


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def write_config(path: Path, url: str, data_dir: Path, base_url: str, file_url: str) -> None:
    from bench.reminders_round import UNLIMITED_FLOOD

    sections: dict[str, dict[str, Any]] = {
        "telegram": {"token": TOKEN, "base_url": base_url, "base_file_url": file_url},
        "database": {"url": url},
        "storage": {"data_dir": str(data_dir)},
        # A quiet morning: the round under load is `bench.reminders round`'s subject.
        "reminders": {"enabled": False},
        "quiz": {"session_length": 50},
        "flood": UNLIMITED_FLOOD,
    }
    write_toml(path, sections)


def write_toml(path: Path, sections: dict[str, dict[str, Any]]) -> None:
    """A configuration file of flat sections (what the bot's TOML needs here)."""
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_toml(value)}" for key, value in values.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# The client: simulated people and the bot's answers --------------------------------------


@dataclass
class Expect:
    """What ends one step: bot messages in the chat, a callback answer, a poll."""

    messages: int = 1
    answer: bool = False
    poll: bool = False
    done: asyncio.Future[list[JSON]] | None = None
    got: list[JSON] = field(default_factory=list)
    answered: bool = False

    def complete(self) -> bool:
        if self.poll:
            return any("poll" in m for m in self.got)
        return len(self.got) >= self.messages and (self.answered or not self.answer)


class Sandbox:
    """The sandbox's control API and its event stream, matched to the waiting steps."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, force_close=False))
        self.waiting: dict[int, Expect] = {}
        self.strays = 0
        self.pid = 0
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ws = await self.http.ws_connect(f"{self.url}/sandbox/ws", max_msg_size=0)
        self._reader = asyncio.create_task(self._read(ws))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self.http.close()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for raw in ws:
            event = json.loads(raw.data)
            kind = event.get("event")
            if kind not in ("message", "callback_answer"):
                continue
            chat = event.get("chat_id")
            if kind == "message" and not event["message"]["from_bot"]:
                continue
            expect = self.waiting.get(chat) if isinstance(chat, int) else None
            if expect is None or expect.done is None or expect.done.done():
                self.strays += 1
                continue
            if kind == "message":
                expect.got.append(event["message"]["message"])
            else:
                expect.answered = True
            if expect.complete():
                expect.done.set_result(expect.got)

    async def post(self, path: str, body: JSON) -> JSON:
        async with self.http.post(f"{self.url}/sandbox{path}", json=body) as response:
            found: JSON = await response.json()
            if response.status >= 400:
                raise RuntimeError(f"{path}: {found}")
            return found

    async def act(self, chat: int, expect: Expect, action: Callable[[], Awaitable[Any]],
                  seconds: float = 30.0) -> list[JSON]:
        """Run `action` and wait for what the bot answers to it."""
        expect.done = asyncio.get_running_loop().create_future()
        self.waiting[chat] = expect
        try:
            await action()
            return await asyncio.wait_for(expect.done, seconds)
        finally:
            self.waiting.pop(chat, None)

    def send(self, user: int, text: str, reply_to: int | None = None) -> Callable[[], Any]:
        return lambda: self.post(f"/users/{user}/send",
                                 {"text": text, "chat_id": user, "reply_to": reply_to})


def _buttons(message: JSON, prefix: str) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [b["callback_data"] for row in rows for b in row
            if str(b.get("callback_data", "")).startswith(prefix)]


class Seat:
    """One responsible person and one leader, acting in turn."""

    STEPS = ("tasks", "open", "progress", "note", "quiz", "summary")

    def __init__(self, sandbox: Sandbox, owner: int, leader: int, n: int) -> None:
        self.sb, self.owner, self.leader = sandbox, owner, leader
        self.step = n % len(self.STEPS)
        self.listed: JSON | None = None
        self.card: JSON | None = None
        self.task = 0
        self.poll: JSON | None = None
        self.turn = n

    async def warm(self) -> None:
        got = await self.sb.act(self.owner, Expect(poll=True), self.sb.send(self.owner, "/quiz"))
        self.poll = next((m for m in reversed(got) if "poll" in m), None)
        await self._tasks()
        await self._open()

    async def _tasks(self) -> None:
        got = await self.sb.act(self.owner, Expect(), self.sb.send(self.owner, "/tasks"))
        self.listed = got[-1]

    async def _open(self) -> None:
        assert self.listed is not None
        choices = _buttons(self.listed, "task:open:")
        data = choices[self.turn % len(choices)]
        self.turn += 1
        listed = self.listed
        got = await self.sb.act(self.owner, Expect(answer=True), lambda: self.sb.post(
            f"/users/{self.owner}/press",
            {"chat_id": self.owner, "message_id": listed["message_id"], "callback_data": data}))
        self.card, self.task = got[-1], int(data.rsplit(":", 1)[1])

    async def next(self) -> str:
        """One step; returns its name."""
        name = self.STEPS[self.step]
        self.step = (self.step + 1) % len(self.STEPS)
        sb, owner = self.sb, self.owner
        if name == "tasks":
            await self._tasks()
        elif name == "open":
            await self._open()
        elif name == "progress":
            self.turn += 1
            await sb.act(owner, Expect(messages=2),
                         sb.send(owner, f"/progress {self.task} {25 * (1 + self.turn % 3)}"))
        elif name == "note":
            assert self.card is not None
            await sb.act(owner, Expect(messages=2),
                         sb.send(owner, "已现场核查，台账与照片一致", self.card["message_id"]))
        elif name == "quiz":
            poll = self.poll
            if poll is None:
                got = await sb.act(owner, Expect(poll=True), sb.send(owner, "/quiz"))
            else:
                got = await sb.act(owner, Expect(), lambda: sb.post(
                    f"/users/{owner}/poll_answer",
                    {"chat_id": owner, "message_id": poll["message_id"], "option_ids": [0]}))
            self.poll = next((m for m in reversed(got) if "poll" in m), None)
        else:
            await sb.act(self.leader, Expect(), sb.send(self.leader, "/summary"))
        return name


class EchoSeat:
    def __init__(self, sandbox: Sandbox, user: int, n: int) -> None:
        self.sb, self.user, self.n = sandbox, user, n

    async def warm(self) -> None:
        await self.next()

    async def next(self) -> str:
        self.n += 1
        await self.sb.act(self.user, Expect(), self.sb.send(self.user, f"回声 {self.n}"))
        return "echo"


# Phases -----------------------------------------------------------------------------------


@dataclass
class Phase:
    updates: int
    seconds: float
    cpu: float
    latencies: list[float]
    kinds: dict[str, int]
    late: int = 0

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.cpu / max(1, self.updates) * 1000

    by_kind: dict[str, list[float]] = field(default_factory=dict)

    def p(self, q: float) -> float:
        return _quantile(self.latencies, q)

    def by_step(self, q: float) -> str:
        return ", ".join(f"{kind} {_quantile(lats, q):.0f}"
                         for kind, lats in sorted(self.by_kind.items()))


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


async def saturate(seats: list[Any], pid: int, seconds: float) -> Phase:
    """Every seat acting at once, each waiting for its answer (closed loop)."""
    stop = False
    done: list[tuple[float, float, str]] = []

    async def run(seat: Any) -> None:
        while not stop:
            started = time.perf_counter()
            kind = await seat.next()
            ended = time.perf_counter()
            done.append((ended, ended - started, kind))

    tasks = [asyncio.create_task(run(seat)) for seat in seats]
    await asyncio.sleep(1.0)
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu1, t1 = cpu_seconds(pid), time.perf_counter()
    stop = True
    await asyncio.gather(*tasks)
    return _phase(done, t0, t1, cpu1 - cpu0)


async def paced(seats: list[Any], pid: int, seconds: float, rate: float) -> Phase:
    """Arrivals at `rate` a second, each taken by an idle seat (open loop); a step's
    latency counts from its arrival, so waiting for a seat counts too."""
    idle: deque[Any] = deque(seats)
    free = asyncio.Event()
    free.set()
    done: list[tuple[float, float, str]] = []
    running: set[asyncio.Task[None]] = set()
    late = 0

    async def one(seat: Any, arrival: float) -> None:
        kind = await seat.next()
        ended = time.perf_counter()
        done.append((ended, ended - arrival, kind))
        idle.append(seat)
        free.set()

    warm = 1.0
    start = time.perf_counter()
    cpu0 = t0 = None
    for n in itertools.count():
        arrival = start + n / rate
        now = time.perf_counter()
        if arrival > start + warm + seconds:
            break
        if cpu0 is None and arrival >= start + warm:
            cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        if arrival > now:
            await asyncio.sleep(arrival - now)
        while not idle:
            late += 1
            free.clear()
            await free.wait()
        task = asyncio.create_task(one(idle.popleft(), arrival))
        running.add(task)
        task.add_done_callback(running.discard)
    cpu1, t1 = cpu_seconds(pid), time.perf_counter()
    await asyncio.gather(*running)
    assert cpu0 is not None and t0 is not None
    phase = _phase(done, t0, t1, cpu1 - cpu0)
    phase.late = late
    return phase


def _phase(done: list[tuple[float, float, str]], t0: float, t1: float, cpu: float) -> Phase:
    window = [(lat, kind) for end, lat, kind in done if t0 <= end <= t1]
    kinds: dict[str, int] = {}
    by_kind: dict[str, list[float]] = {}
    for lat, kind in window:
        kinds[kind] = kinds.get(kind, 0) + 1
        by_kind.setdefault(kind, []).append(lat)
    return Phase(len(window), t1 - t0, cpu, [lat for lat, _ in window], kinds, by_kind=by_kind)


# One run ----------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    full: Phase
    half: Phase
    strays: int
    seats: int


PROFILE: Path | None = None


def _spy(pid: int, name: str, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy on a process for the saturated phase (after its one-second ramp)."""
    assert PROFILE is not None
    spy = Path(PYTHON).parent / "py-spy"
    return subprocess.Popen(
        [str(spy), "record", "--nonblocking", "-p", str(pid), "-d", str(int(seconds)),
         "-r", "200", "-f", "raw", "-o", str(PROFILE / f"{name}.txt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _spawn(argv: list[str], log: Path, root: Path = ROOT) -> subprocess.Popen[bytes]:
    # The code of that checkout, whatever the virtualenv's editable install points at.
    env = {**os.environ, "PYTHONPATH": str(root)}
    with log.open("ab") as out:
        return subprocess.Popen(argv, cwd=root, stdout=out, stderr=subprocess.STDOUT, env=env)


async def _bot(sandbox: Sandbox, argv: list[str], seats: list[Any], seconds: float,
               label: str, log: Path, half_rate: float | None = None,
               root: Path = ROOT) -> Result:
    proc = _spawn(argv, log, root)
    try:
        # The first answer says the bot polls; the warm-up also opens each seat's quiz.
        await asyncio.gather(*(seat.warm() for seat in seats))
        sandbox.strays = 0
        spies = [_spy(pid, f"{label}-{name}", seconds) for pid, name in
                 ((proc.pid, "bot"), (sandbox.pid, "sandbox"))] if PROFILE else []
        full = await saturate(seats, proc.pid, seconds)
        for spy in spies:
            await asyncio.to_thread(spy.wait)
        half = await paced(seats, proc.pid, seconds, half_rate or full.rate / 2)
        return Result(label, full, half, sandbox.strays, len(seats))
    finally:
        await _stop(proc)


async def run_backend(kind: str, store: Any, owners: list[tuple[int, int, list[int]]],
                      leaders: list[int], args: argparse.Namespace, tmp: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    base_url, file_url = f"{url}/bot", f"{url}/file/bot"
    log = tmp / "processes.log"
    sandbox_proc = _spawn(
        [PYTHON, "-m", "sandbox", "--port", str(port), "--no-rate-limits", "--token", TOKEN], log)
    sandbox = Sandbox(url)
    sandbox.pid = sandbox_proc.pid
    try:
        for _ in range(100):
            with contextlib.suppress(aiohttp.ClientError):
                async with sandbox.http.get(f"{url}/sandbox/info") as response:
                    if response.status == 200:
                        break
            await asyncio.sleep(0.1)
        await sandbox.start()
        chosen = owners[:args.seats]
        for n, (_, tg, _tasks) in enumerate(owners):
            await sandbox.post("/users", {"first_name": f"责任人{n}", "user_id": tg,
                                          "started": True})
        for n, tg in enumerate(leaders):
            await sandbox.post("/users", {"first_name": f"组长{n}", "user_id": tg,
                                          "started": True})
        results: list[Result] = []
        echo_seats = [EchoSeat(sandbox, tg, 0) for _, tg, _ in chosen]
        results.append(await _bot(sandbox, [PYTHON, "-m", "bench.updates", "serve-echo",
                                            base_url], echo_seats, args.seconds, "echo", log))
        # `--compare DIR`: the same app from another checkout (the code before a change),
        # run between the echo and this checkout's app, in the same sandbox and client.
        runs = [(mode, ROOT) for mode in args.modes]
        if args.compare is not None:
            runs.insert(0, ("app", args.compare.resolve()))
        for mode, root in runs:
            label = mode if root == ROOT else "base"
            db_url = await store.fresh()
            config = tmp / f"{label}.toml"
            write_config(config, db_url, tmp / "data", base_url, file_url)
            argv = ([PYTHON, "-m", "bench.updates", "serve-app", str(config)] if mode == "app"
                    else [str(Path(PYTHON).parent / "inspectbot"), "-c", str(config), "run"])
            # `inspectbot run` keeps Telegram's pace in each chat (about one message a
            # second), so its people act at a human pace: more of them, the same load.
            people = owners[:args.run_seats] if mode == "run" else chosen
            seats = [Seat(sandbox, tg, leaders[n], n) for n, (_, tg, _) in enumerate(people)]
            app = next((r for r in results if r.label == "app"), None)
            half = app.full.rate / 2 if app is not None and mode == "run" else None
            try:
                results.append(await _bot(sandbox, argv, seats, args.seconds, label, log, half,
                                          root))
            finally:
                await store.discard(db_url)
        report(kind, results, args)
    finally:
        await sandbox.close()
        await _stop(sandbox_proc)


def report(kind: str, results: list[Result], args: argparse.Namespace) -> None:
    echo = results[0]
    print(f"\n[{kind}] {args.tasks} tasks, {args.seconds:g} s a phase")
    print(f"  {'bot':<5} {'phase':<10} {'upd/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'CPU ms/upd':>10} | ratio to echo: {'upd/s':>6} {'p50':>6} {'p99':>6} {'CPU':>6}")
    for r in results:
        for name, phase, ref in (("saturated", r.full, echo.full), ("half", r.half, echo.half)):
            print(f"  {r.label:<5} {name:<10} {phase.rate:7.1f} {phase.p(0.5):7.1f} "
                  f"{phase.p(0.99):7.1f} {phase.cpu_ms:10.2f} | "
                  f"{'':>14} {phase.rate / ref.rate:6.2f} {phase.p(0.5) / ref.p(0.5):6.1f} "
                  f"{phase.p(0.99) / ref.p(0.99):6.1f} {phase.cpu_ms / ref.cpu_ms:6.1f}")
        mix = ", ".join(f"{k} {v}" for k, v in sorted(r.full.kinds.items()))
        print(f"        {r.seats} seats; mix at saturation: {mix}; late arrivals at half "
              f"{r.half.late}; unmatched answers {r.strays}")
        if r.label != "echo":
            print(f"        p50 ms by step at half load: {r.half.by_step(0.5)}")
            print(f"        p90 ms by step at half load: {r.half.by_step(0.9)}")
    app = next((r for r in results if r.label == "app"), None)
    run = next((r for r in results if r.label == "run"), None)
    base = next((r for r in results if r.label == "base"), None)
    if app is not None and base is not None:
        print(f"  app / base (--compare): saturated {app.full.rate / base.full.rate:.2f} upd/s, "
              f"CPU per update {app.full.cpu_ms / base.full.cpu_ms:.2f}; at half load p50 "
              f"{app.half.p(0.5) / base.half.p(0.5):.2f}, p99 "
              f"{app.half.p(0.99) / base.half.p(0.99):.2f}, CPU per update "
              f"{app.half.cpu_ms / base.half.cpu_ms:.2f}")
    if app is not None and run is not None:
        print(f"  inspectbot run / app: saturated {run.full.rate / app.full.rate:.2f} upd/s; "
              f"at the app's half load {run.half.rate / app.half.rate:.2f} upd/s, p50 "
              f"{run.half.p(0.5) / app.half.p(0.5):.1f}x, p99 "
              f"{run.half.p(0.99) / app.half.p(0.99):.1f}x")


def _people(data: Any, seats: int) -> tuple[list[tuple[int, int, list[int]]], list[int]]:
    """Owners with open tasks, and as many leaders (unit heads made county leaders)."""
    owners = [o for o in data.owners if len(o[2]) >= 1][:seats]
    persons = data.rows("persons")
    heads = [p for p in persons if p["role"] == "leader" and p["telegram_id"] is not None
             and p["unreachable_since"] is None]
    heads += [p for p in persons if p["id"] > 41 and p["id"] <= 2000
              and p["telegram_id"] is not None and p["unreachable_since"] is None]
    chosen = heads[:seats]
    for p in chosen:
        p["role"] = "leader"
    return owners, [p["telegram_id"] for p in chosen]


async def main_async(args: argparse.Namespace) -> None:
    from bench.reminders_data import build
    from bench.reminders_round import PostgresStore, SQLiteStore, quiet_logs

    quiet_logs()
    random.seed(14)
    started = time.perf_counter()
    data = await asyncio.to_thread(build, args.tasks, history=True)
    owners, leaders = _people(data, max(args.seats, args.run_seats))
    print(f"campaign: {args.tasks} tasks, {data.open_tasks} open; built in "
          f"{time.perf_counter() - started:.0f} s; seats: {len(owners)} owners + "
          f"{len(leaders)} leaders")
    with tempfile.TemporaryDirectory(prefix="bench-updates-") as name:
        tmp = Path(name)
        stores: list[tuple[str, Any]] = []
        if args.sqlite:
            stores.append(("SQLite", SQLiteStore(tmp)))
        pg = args.database_url or os.environ.get("BENCH_DATABASE_URL", "")
        if pg:
            stores.append(("PostgreSQL", PostgresStore(pg)))
        for kind, store in stores:
            await store.template(data)
            try:
                await run_backend(kind, store, owners, leaders, args, tmp)
            finally:
                await store.close()
        if args.keep_log:
            print((tmp / "processes.log").read_text(errors="replace")[-4000:])


# The limiter alone: what `inspectbot run` may send for interactive work -----------------


async def pacing_ceiling(updates: int) -> None:
    """Interactive updates through the limiter alone, each answering a button press the
    way the bot does (answerCallbackQuery, editMessageText of the pressed card, one
    sendMessage reply), every update from another person, all at once, with requests that
    return at once: the ceiling the limiter puts on `inspectbot run`. Against PTB's
    AIORateLimiter (30/s on every request that names a chat) in the same process."""
    from collections.abc import Coroutine

    from telegram.ext import AIORateLimiter, BaseRateLimiter

    from bot.delivery.pacing import Pacing, replying

    async def call(*_args: Any, **_kwargs: Any) -> bool:
        return True

    async def one(limiter: BaseRateLimiter[Any], chat: int) -> None:
        process: Callable[..., Coroutine[Any, Any, Any]] = limiter.process_request
        with replying():
            await process(call, (), {}, "answerCallbackQuery", {"callback_query_id": "1"}, None)
            await process(call, (), {}, "editMessageText", {"chat_id": chat}, None)
            await process(call, (), {}, "sendMessage", {"chat_id": chat}, None)

    rates = {}
    for name, limiter in (("AIORateLimiter", AIORateLimiter(max_retries=0)),
                          ("Pacing", Pacing())):
        await limiter.initialize()
        started = time.perf_counter()
        await asyncio.gather(*(one(limiter, 10_000 + n) for n in range(updates)))
        rates[name] = updates / (time.perf_counter() - started)
        await limiter.shutdown()
        print(f"limiter alone, {updates} button presses by as many people: {name} "
              f"{rates[name]:,.0f} presses/s")
    print(f"  Pacing / AIORateLimiter = {rates['Pacing'] / rates['AIORateLimiter']:.0f}x")


# Statements and connections per update, in process ----------------------------------------


async def statements(count: int) -> None:
    """The reminders benchmark's people (/tasks, a card, its progress) through
    `Application.process_update` with a recording request: SQL statements and pool
    checkouts per update, and the median time of each kind, on SQLite."""
    from collections import Counter, defaultdict
    from datetime import timedelta

    from sqlalchemy import event

    from bench.limits import SendAtOnce
    from bench.reminders_data import ROUND_AT, build
    from bench.reminders_round import (
        People,
        SQLiteStore,
        _Recorder,
        _services,
        quiet_logs,
    )
    from bot.app import build_application

    quiet_logs()
    data = await asyncio.to_thread(build, 10_000, history=True)
    with tempfile.TemporaryDirectory(prefix="bench-updates-") as tmp:
        store = SQLiteStore(Path(tmp))
        await store.template(data)
        async with _services(store, ROUND_AT - timedelta(seconds=30)) as services:
            engine = services.db.engine.sync_engine
            counted: Counter[str] = Counter()
            current = [""]

            def on_statement(*_args: Any) -> None:
                counted[current[0]] += 1

            def on_checkout(*_args: Any) -> None:
                counted[current[0] + " checkouts"] += 1

            event.listen(engine, "before_cursor_execute", on_statement)
            event.listen(engine.pool, "checkout", on_checkout)
            app = build_application(services.config, services=services, request=_Recorder(),
                                    updater=False, rate_limiter=SendAtOnce())
            people = People(data.owners[:50], app.bot)
            times: defaultdict[str, list[float]] = defaultdict(list)
            async with app:
                for n in range(count + 30):
                    update, after = people.next_update()
                    query = update.callback_query
                    kind = "/tasks" if query is None else f"task:{(query.data or '').split(':')[1]}"
                    current[0] = kind if n >= 30 else "warm-up"
                    started = time.perf_counter()
                    await app.process_update(update)
                    if n >= 30:
                        times[kind].append(time.perf_counter() - started)
                    people.queue.append(after)
    for kind, spent in sorted(times.items()):
        print(f"  {kind:<10} {counted[kind] / len(spent):4.1f} statements, "
              f"{counted[kind + ' checkouts'] / len(spent):3.1f} connections an update; "
              f"median {_quantile(spent, 0.5):5.1f} ms ({len(spent)} updates)")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "serve-echo":
        serve_echo(sys.argv[2])
        return
    if len(sys.argv) > 2 and sys.argv[1] == "serve-app":
        serve_app(sys.argv[2])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "statements":
        asyncio.run(statements(int(sys.argv[2]) if len(sys.argv) > 2 else 300))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "pacing":
        asyncio.run(pacing_ceiling(int(sys.argv[2]) if len(sys.argv) > 2 else 300))
        return
    parser = argparse.ArgumentParser(prog="python -m bench.updates")
    parser.add_argument("--tasks", type=int, default=10_000, help="10000 or 200000")
    parser.add_argument("--seats", type=int, default=24, help="simulated people at once")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--run-seats", type=int, default=96,
                        help="people at once for `inspectbot run` (each paced per chat)")
    parser.add_argument("--modes", default="app,run",
                        help="which bots besides the echo: app, run (comma-separated)")
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL server to run on too (or BENCH_DATABASE_URL)")
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false")
    parser.add_argument("--compare", type=Path,
                        help="another checkout whose app runs too, before this one's (a baseline)")
    parser.add_argument("--profile", type=Path,
                        help="directory for py-spy profiles (raw stacks) of the saturated phases")
    parser.add_argument("--keep-log", action="store_true",
                        help="print the end of the processes' log")
    args = parser.parse_args()
    args.modes = [m for m in args.modes.split(",") if m]
    if args.profile is not None:
        global PROFILE
        args.profile.mkdir(parents=True, exist_ok=True)
        PROFILE = args.profile
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
