"""More processes for more users: `inspectbot run --workers N` for N = 1, 2, 4 on PostgreSQL.

    .venv/bin/python -m bench.workers --database-url postgresql://…/inspectbot_bench
                                      [--workers 1,2,4] [--seats 192] [--seconds 15]
                                      [--tasks 10000]

As deployed (docs/deploy.md): the real supervisor and its workers, nginx with
deploy/nginx/inspectbot.conf in front (TLS, a self-signed certificate the bot uploads with
setWebhook), and the sandbox (`python -m sandbox --no-rate-limits`, its own process)
delivering every update by webhook over up to 40 connections, as Telegram does. The
workload is bench.updates' mixed one (`/tasks`, a card press, `/progress`, a note replying
to the card, a quiz answer, a leader's `/summary`) over the same campaign, on a fresh copy
of one template database per N; every seat acts at once, each waiting for the bot's answer
(closed loop). `inspectbot run` keeps Telegram's pace inside each chat (about a message a
second), so a seat is a person at a human pace and there are many of them.

Figures per N: updates/s, p50/p99 latency, CPU per update summed over the workers; and the
ratios N:1 measured in the same run (the machine is shared: only ratios carry over).
Needs nginx (Debian: nginx-light) and a PostgreSQL server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.updates import (
    PYTHON,
    TOKEN,
    Phase,
    Sandbox,
    Seat,
    _free_port,
    _people,
    _phase,
    _spawn,
    _stop,
    cpu_seconds,
    write_toml,
)
from tests.utils.nginx import NGINX, Nginx, render_site, self_signed

HOOK = "/hook/inspectbot"


def write_config(path: Path, *, url: str, data_dir: Path, sandbox: str, public: str,
                 base_port: int, certificate: Path) -> None:
    from bench.reminders_round import UNLIMITED_FLOOD

    sections: dict[str, dict[str, Any]] = {
        "telegram": {"token": TOKEN, "base_url": f"{sandbox}/bot", "base_file_url": f"{sandbox}/file/bot",
                     "mode": "webhook", "webhook_url": public, "webhook_listen": "127.0.0.1",
                     "webhook_port": base_port, "webhook_certificate": str(certificate)},
        "database": {"url": url},
        "storage": {"data_dir": str(data_dir)},
        "reminders": {"enabled": False},
        "quiz": {"session_length": 50},
        "flood": UNLIMITED_FLOOD,
    }
    write_toml(path, sections)


def _ports(count: int) -> int:
    """A base port with `count` free ports from it, below the ephemeral range."""
    for _ in range(200):
        base = random.randrange(20000, 32000)
        with contextlib.ExitStack() as stack:
            try:
                for port in range(base, base + count):
                    stack.enter_context(socket.socket()).bind(("127.0.0.1", port))
            except OSError:
                continue
            return base
    raise RuntimeError("no free ports")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


class Workers:
    """The bot's processes: the supervisor and its workers (or the one process of
    `--workers 1`, which serves itself); their CPU seconds, summed."""

    def __init__(self, supervisor: int) -> None:
        self.supervisor = supervisor

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in [self.supervisor, *_children(self.supervisor)])


async def saturate(seats: list[Seat], workers: Workers, seconds: float) -> Phase:
    """Every seat acting at once, each waiting for its answer (bench.updates' closed loop,
    with the CPU of all the workers)."""
    stop = False
    done: list[tuple[float, float, str]] = []

    async def run(seat: Seat) -> None:
        while not stop:
            started = time.perf_counter()
            kind = await seat.next()
            ended = time.perf_counter()
            done.append((ended, ended - started, kind))

    tasks = [asyncio.create_task(run(seat)) for seat in seats]
    await asyncio.sleep(2.0)
    cpu0, t0 = workers.cpu(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu1, t1 = workers.cpu(), time.perf_counter()
    stop = True
    await asyncio.gather(*tasks)
    return _phase(done, t0, t1, cpu1 - cpu0)


async def _wait_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def run_one(count: int, *, sandbox: Sandbox, sandbox_url: str, store: Any,
                  nginx: Nginx, certificate: Any, seats: list[Seat], seconds: float,
                  tmp: Path) -> Phase:
    base = _ports(count)
    nginx.reload(render_site(port=nginx.port, upstream=list(range(base, base + count)),
                             certificate=certificate, logs=nginx.root / "logs"))
    db_url = await store.fresh()
    config = tmp / f"workers{count}.toml"
    write_config(config, url=db_url, data_dir=tmp / "data", sandbox=sandbox_url,
                 public=f"https://127.0.0.1:{nginx.port}{HOOK}", base_port=base,
                 certificate=certificate.cert)
    proc = _spawn([str(Path(PYTHON).parent / "inspectbot"), "-c", str(config), "run",
                   "--workers", str(count)], tmp / "processes.log")
    try:
        for port in range(base, base + count):
            await _wait_port(port, 180)
        # Every step once in every seat, so each worker has loaded what each handler needs
        # (the question bank's index, the summary's charts) before anything is measured;
        # a few seats at a time, so a cold process is not asked for everything at once.
        for start in range(0, len(seats), 16):
            batch = seats[start:start + 16]
            await asyncio.gather(*(seat.warm() for seat in batch))
            for _ in Seat.STEPS:
                await asyncio.gather(*(seat.next() for seat in batch))
        sandbox.strays = 0
        return await saturate(seats, Workers(proc.pid), seconds)
    finally:
        await _stop(proc)
        await store.discard(db_url)


async def main_async(args: argparse.Namespace) -> None:
    from bench.reminders_data import build
    from bench.reminders_round import PostgresStore, quiet_logs

    quiet_logs()
    random.seed(14)
    data = await asyncio.to_thread(build, args.tasks, history=True)
    owners, leaders = _people(data, args.seats)
    counts = [int(n) for n in args.workers.split(",")]
    print(f"campaign: {args.tasks} tasks; {len(owners)} seats; workers {counts}; "
          f"{args.seconds:g} s a phase; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as name:
        tmp = Path(name)
        store = PostgresStore(args.database_url)
        await store.template(data)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = tmp / "processes.log"
        sandbox_proc = _spawn([PYTHON, "-m", "sandbox", "--port", str(port),
                               "--no-rate-limits", "--token", TOKEN], log)
        sandbox = Sandbox(url)
        certificate = self_signed(tmp)
        nginx = Nginx(tmp / "nginx", _free_port(), "")
        nginx.site = render_site(port=nginx.port, upstream=[_free_port()],
                                 certificate=certificate, logs=nginx.root / "logs")
        nginx.start()
        try:
            for _ in range(100):
                with contextlib.suppress(aiohttp.ClientError):
                    async with sandbox.http.get(f"{url}/sandbox/info") as response:
                        if response.status == 200:
                            break
                await asyncio.sleep(0.1)
            await sandbox.start()
            for n, (_, tg, _tasks) in enumerate(owners):
                await sandbox.post("/users", {"first_name": f"责任人{n}", "user_id": tg,
                                              "started": True})
            for n, tg in enumerate(leaders):
                await sandbox.post("/users", {"first_name": f"组长{n}", "user_id": tg,
                                              "started": True})
            phases: dict[int, Phase] = {}
            for count in counts:
                seats = [Seat(sandbox, tg, leaders[n], n) for n, (_, tg, _) in enumerate(owners)]
                phases[count] = await run_one(
                    count, sandbox=sandbox, sandbox_url=url, store=store, nginx=nginx,
                    certificate=certificate, seats=seats, seconds=args.seconds, tmp=tmp)
                phase = phases[count]
                print(f"  {count} worker(s): {phase.rate:7.1f} updates/s, p50 "
                      f"{phase.p(0.5):6.0f} ms, p99 {phase.p(0.99):6.0f} ms, "
                      f"{phase.cpu_ms:5.1f} ms CPU/update (workers), strays {sandbox.strays}",
                      flush=True)
            one = phases.get(1)
            if one is not None:
                for count, phase in phases.items():
                    if count != 1:
                        print(f"  {count} vs 1: {phase.rate / one.rate:.2f}x updates/s")
            if args.keep_log:
                print(log.read_text(errors="replace")[-4000:])
        finally:
            nginx.stop()
            await sandbox.close()
            await _stop(sandbox_proc)
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.workers")
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--seats", type=int, default=192,
                        help="people at once (each paced per chat by Telegram's limits)")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""),
                        help="PostgreSQL server (or BENCH_DATABASE_URL)")
    parser.add_argument("--keep-log", action="store_true")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url (PostgreSQL) is required: SQLite runs one worker")
    if NGINX is None or shutil.which("openssl") is None:
        parser.error("needs nginx (apt-get install nginx-light) and openssl")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
