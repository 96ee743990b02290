"""`inspectbot run --workers N`: N webhook processes on one PostgreSQL, each on its own port.

Each worker listens on `webhook_port + index` of `webhook_listen`, and the reverse proxy
(deploy/nginx/inspectbot.conf) spreads Telegram's POSTs over them. A port per worker rather
than SO_REUSEPORT on one: the proxy sees each worker (a dead one is taken out of the
upstream, a health check reaches the worker it names, a test can route to one), and the
kernel's hash would put one proxy connection's updates on one worker anyway.

Worker 0 alone registers the bot with Telegram (setWebhook, the command menus): N
processes starting together would otherwise call the same rate-limited methods N times.
It also starts first, and the others only once its port answers: the start-up work on
the database (the starter question bank, the reminder cursors of a first start) then runs
in one process instead of racing in N.
Everything else is safe to run in every worker because it is keyed in the database: the
outbox claims with SKIP LOCKED, and every scheduled job (reminder sweeps, quiz reminders,
the weekly bulletin) queues messages under an idempotency key (docs/reminders.md).

Telegram's limits are the bot's, not a process's: each worker keeps 1/N of the overall
30 messages a second and of each group's 20 a minute (`share_of`), so N workers together
stay within them. A private chat keeps its own pace in each worker: two workers answering
one person at the same moment is a burst Telegram allows.

The supervisor itself imports nothing of the bot: it starts `python -m bot … run --worker
i/N` for each slot, forwards SIGTERM/SIGINT, restarts a worker that dies (with a growing
delay), and gives up only on the exit codes a restart cannot fix (configuration, schema).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from bot.config import AppConfig

log = logging.getLogger(__name__)

# `inspectbot run`'s own exit codes that no restart can fix: a configuration error (2),
# a database schema behind the code (3) and a port another program holds (4).
FATAL_EXIT_CODES = frozenset({2, 3, 4})
# How long a worker must have run for its exit to count as a crash of a healthy worker
# rather than a failure to start.
SETTLED_SECONDS = 30.0
RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
STOP_GRACE_SECONDS = 30.0
# The other workers start when worker 0 is ready, or after this long in any case (a first
# start after a bulk load derives every reminder cursor before it listens).
FIRST_READY_SECONDS = 300.0

POLLING_REFUSED = (
    "--workers 大于 1 需要 webhook 模式：长轮询（getUpdates）同一时刻只允许一个进程，"
    "多个进程会互相冲突（409）。请在 [telegram] 中设置 mode = \"webhook\" 和 webhook_url。\n"
    "--workers above 1 needs webhook mode: Telegram lets only one process poll getUpdates "
    "at a time (others get 409 Conflict). Set mode = \"webhook\" and webhook_url in "
    "[telegram]."
)
SQLITE_REFUSED = (
    "--workers 大于 1 需要 PostgreSQL：SQLite 同一时刻只有一个写入者，多个进程只会排队等锁"
    "（database is locked），不会更快。请把 [database] url 改为 postgresql://…，"
    "或使用 --workers 1。\n"
    "--workers above 1 needs PostgreSQL: SQLite has a single writer, so several processes "
    "would only queue for its lock (\"database is locked\") and gain nothing. Set "
    "[database] url to postgresql://…, or use --workers 1."
)


@dataclass(frozen=True)
class WorkerSlot:
    """Which of the N workers this process is."""

    index: int
    count: int

    @property
    def registers(self) -> bool:
        """The first worker alone calls setWebhook and publishes the command menus."""
        return self.index == 0

    def port(self, base: int) -> int:
        return base + self.index

    @classmethod
    def parse(cls, text: str) -> WorkerSlot:
        """`i/N` as the supervisor passes it to `run --worker`."""
        index, _, count = text.partition("/")
        slot = cls(int(index), int(count))
        if not 0 <= slot.index < slot.count:
            raise ValueError(f"worker {text}: the index must be below the count")
        return slot


def share_of(config: AppConfig, slot: WorkerSlot) -> AppConfig:
    """The configuration of one worker: the outbox's overall and per-group budgets / N."""
    delivery = config.reminders.delivery
    shared = delivery.model_copy(update={
        "global_per_second": delivery.global_per_second / slot.count,
        "group_per_minute": max(1, delivery.group_per_minute // slot.count),
    })
    reminders = config.reminders.model_copy(update={"delivery": shared})
    return config.model_copy(update={"reminders": reminders})


def refusal(*, workers: int, mode: str, database_url: str) -> str | None:
    """Why N workers cannot run with this configuration, or None when they can."""
    if workers <= 1:
        return None
    if mode != "webhook":
        return POLLING_REFUSED
    if database_url.startswith("sqlite"):
        return SQLITE_REFUSED
    return None


def ports(base: int, workers: int) -> list[int]:
    return [base + i for i in range(workers)]


def worker_command(config_path: Path | None, *, verbose: bool, slot: WorkerSlot) -> list[str]:
    """The command line of one worker: this interpreter, `python -m bot`, the same config."""
    command = [sys.executable, "-m", "bot"]
    if config_path is not None:
        command += ["--config", str(config_path.resolve())]
    if verbose:
        command.append("--verbose")
    return [*command, "run", "--worker", f"{slot.index}/{slot.count}"]


def port_answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


@dataclass
class _Worker:
    slot: WorkerSlot
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    waiting: bool = False  # for worker 0 to be ready


@dataclass
class Supervisor:
    """Keeps N worker processes running until SIGTERM or SIGINT, then stops them gracefully."""

    command: Callable[[WorkerSlot], Sequence[str]]
    count: int
    # Whether a worker is ready (its port answers); None starts every worker at once.
    ready: Callable[[WorkerSlot], bool] | None = None
    first_ready_timeout: float = FIRST_READY_SECONDS
    restart_delays: tuple[float, ...] = RESTART_DELAYS
    stop_grace: float = STOP_GRACE_SECONDS
    _workers: list[_Worker] = field(default_factory=list)
    _stopping: bool = False

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._workers = [_Worker(WorkerSlot(i, self.count), waiting=i > 0 and
                                     self.ready is not None) for i in range(self.count)]
            for worker in self._workers:
                if not worker.waiting:
                    self._start(worker)
            return self._watch()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _start(self, worker: _Worker) -> None:
        worker.process = subprocess.Popen(list(self.command(worker.slot)))
        worker.started = time.monotonic()
        worker.restart_at = None
        log.info("worker %d/%d started (pid %d)", worker.slot.index, self.count,
                 worker.process.pid)

    def _first_is_ready(self, now: float) -> bool:
        first = self._workers[0]
        if self.ready is None or now - first.started >= self.first_ready_timeout:
            return True
        return first.process is not None and first.process.poll() is None and self.ready(
            first.slot)

    def _watch(self) -> int:
        while not self._stopping:
            now = time.monotonic()
            if any(w.waiting for w in self._workers) and self._first_is_ready(now):
                for worker in self._workers:
                    if worker.waiting:
                        worker.waiting = False
                        self._start(worker)
            for worker in self._workers:
                if worker.waiting:
                    continue
                if worker.restart_at is not None:
                    if now >= worker.restart_at:
                        self._start(worker)
                    continue
                assert worker.process is not None
                code = worker.process.poll()
                if code is None:
                    continue
                if code in FATAL_EXIT_CODES:
                    log.error("worker %d exited with %d; a restart cannot fix that, stopping",
                              worker.slot.index, code)
                    return code
                worker.failures = (0 if now - worker.started >= SETTLED_SECONDS
                                   else worker.failures + 1)
                delay = self.restart_delays[min(worker.failures, len(self.restart_delays) - 1)]
                log.warning("worker %d exited with %d; restarting in %.0f s",
                            worker.slot.index, code, delay)
                worker.restart_at = now + delay
            time.sleep(0.2)
        return 0

    def _stop_all(self) -> None:
        running = [w.process for w in self._workers
                   if w.process is not None and w.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_grace
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker pid %d did not stop in %.0f s; killing it", process.pid,
                            self.stop_grace)
                process.kill()
                process.wait()
