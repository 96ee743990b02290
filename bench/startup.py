"""Benchmark: starting `inspectbot run` against a bare python-telegram-bot echo bot.

    .venv/bin/python -m bench.startup [--tasks 200000] [--repeat 5] [--idle 3]

Both are started the same way, as a fresh `python` process polling a local stand-in for
the Bot API served by this process (getMe answered, getUpdates held open and empty). For
each start: the wall time from spawning the process to its first getUpdates (the point it
polls), its resident memory after `--idle` seconds of polling with nothing to do, and its
peak. The bot runs on a SQLite file holding one campaign of `--tasks` tasks (2,000 units,
20,000 people, as `bench.reports` builds it); its first start, which derives every task's
reminders, is reported apart, and the measured starts alternate with the echo bot's, so
the ratios compare runs made under the same load. Imports alone (`import bot.cli` against
`import telegram.ext`, each in a fresh interpreter) are measured the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
BOT_ID = 7_000_000_021

ECHO = """
import sys
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is not None and update.message.text:
        await update.message.reply_text(update.message.text)


app = Application.builder().token(sys.argv[1]).base_url(sys.argv[2]).build()
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_polling()
"""

IMPORTS = "import sys, time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


@dataclass
class BotApi:
    """The Bot API as a polling bot sees it when nobody writes: when each token first
    asked for updates."""

    first_poll: dict[str, float] = field(default_factory=dict)
    polled: dict[str, asyncio.Event] = field(default_factory=dict)

    def expect(self, token: str) -> asyncio.Event:
        self.polled[token] = asyncio.Event()
        return self.polled[token]

    async def handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        await request.read()
        result: object = True
        if method == "getMe":
            result = {"id": BOT_ID, "is_bot": True, "first_name": "bench", "username": "bench_bot"}
        elif method == "getUpdates":
            if token not in self.first_poll:
                self.first_poll[token] = time.perf_counter()
                if token in self.polled:
                    self.polled[token].set()
            await asyncio.sleep(1)  # a long poll with nothing in it
            result = []
        return web.json_response({"ok": True, "result": result})


def _status_kb(pid: int) -> tuple[int, int]:
    """Resident and peak resident memory of a process, in KiB (Linux)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


@dataclass(frozen=True)
class Start:
    seconds: float
    rss_mib: float
    peak_mib: float


async def _start(api: BotApi, argv: list[str], token: str, idle: float) -> Start:
    polled = api.expect(token)
    started = time.perf_counter()
    child = await asyncio.create_subprocess_exec(
        *argv, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    waiter = asyncio.ensure_future(polled.wait())
    ended = asyncio.ensure_future(child.wait())
    done, _ = await asyncio.wait({waiter, ended}, timeout=600,
                                 return_when=asyncio.FIRST_COMPLETED)
    if waiter not in done:
        waiter.cancel()
        stderr = (await child.stderr.read()).decode() if child.stderr else ""
        if child.returncode is None:
            child.kill()
        raise RuntimeError(f"{argv[:3]} never polled:\n{stderr[-3000:]}")
    took = api.first_poll[token] - started
    await asyncio.sleep(idle)
    rss, peak = _status_kb(child.pid)
    child.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(ended, 60)
    except TimeoutError:
        child.kill()
        await ended
    return Start(took, rss / 1024, peak / 1024)


def _database(path: Path, tasks: int) -> str:
    from bench import reports
    from db.migrate import upgrade

    url = f"sqlite:///{path}"
    upgrade(url)
    reports._seed_roster(url)
    if tasks:
        reports._grow(url, 1, tasks, random.Random(20261122))
    return url


def _config(workdir: Path, url: str, token: str, base_url: str) -> Path:
    path = workdir / f"{token.split(':')[0]}.toml"
    path.write_text(
        f"[telegram]\ntoken = {json.dumps(token)}\nbase_url = {json.dumps(base_url)}\n"
        f"[database]\nurl = {json.dumps(url)}\n"
        f"[storage]\ndata_dir = {json.dumps(str(workdir / 'data'))}\n",
        encoding="utf-8",
    )
    return path


async def _imports(repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {"bot.cli": [], "telegram.ext": []}
    for _ in range(repeat):
        for module, samples in times.items():
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-c", IMPORTS.format(module=module), cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await child.communicate()
            samples.append(float(out.decode().strip()))
    return {module: statistics.median(samples) for module, samples in times.items()}


async def run(tasks: int, repeat: int, idle: float) -> None:
    api = BotApi()
    server = web.Application()
    server.router.add_post("/bot{token}/{method}", api.handle)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base_url = f"http://127.0.0.1:{port}/bot"
    tokens = (f"{n}:bench" for n in range(100_001, 200_000))
    try:
        with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
            workdir = Path(tmp)
            built = time.perf_counter()
            url = await asyncio.to_thread(_database, workdir / "bot.db", tasks)
            print(f"{tasks:,} tasks, 2,000 units, 20,000 people "
                  f"(built in {time.perf_counter() - built:.0f} s); idle {idle:g} s after the "
                  f"first getUpdates; medians of {repeat}")

            def bot_argv() -> tuple[list[str], str]:
                token = next(tokens)
                config = _config(workdir, url, token, base_url)
                return [sys.executable, "-m", "bot.cli", "-c", str(config), "run"], token

            def echo_argv() -> tuple[list[str], str]:
                token = next(tokens)
                return [sys.executable, "-c", ECHO, token, base_url], token

            argv, token = bot_argv()
            first = await _start(api, argv, token, idle)
            print(f"  first start (reminders derived)  {first.seconds:6.2f} s  "
                  f"RSS {first.rss_mib:5.0f} MiB  peak {first.peak_mib:5.0f} MiB")
            bots: list[Start] = []
            echoes: list[Start] = []
            for _ in range(repeat):
                argv, token = echo_argv()
                echoes.append(await _start(api, argv, token, idle))
                argv, token = bot_argv()
                bots.append(await _start(api, argv, token, idle))
            imports = await _imports(repeat)
    finally:
        await runner.cleanup()

    def med(runs: list[Start], what: str) -> float:
        return float(statistics.median(float(getattr(r, what)) for r in runs))

    print("                       start→poll    RSS idle    peak RSS")
    for label, runs in (("inspectbot run", bots), ("PTB echo bot", echoes)):
        print(f"  {label:<18} {med(runs, 'seconds'):8.2f} s {med(runs, 'rss_mib'):7.0f} MiB"
              f" {med(runs, 'peak_mib'):7.0f} MiB")
    print(f"  ratio (bot ÷ echo) {med(bots, 'seconds') / med(echoes, 'seconds'):8.2f}"
          f" {med(bots, 'rss_mib') / med(echoes, 'rss_mib'):11.2f}"
          f" {med(bots, 'peak_mib') / med(echoes, 'peak_mib'):11.2f}")
    print(f"  imports: bot.cli {imports['bot.cli']:.2f} s, telegram.ext "
          f"{imports['telegram.ext']:.2f} s, ratio "
          f"{imports['bot.cli'] / imports['telegram.ext']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.startup")
    parser.add_argument("--tasks", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--idle", type=float, default=3.0)
    args = parser.parse_args()
    os.environ.pop("INSPECTBOT_TOKEN", None)  # the config file's token is the one used
    asyncio.run(run(args.tasks, args.repeat, args.idle))


if __name__ == "__main__":
    main()
