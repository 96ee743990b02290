"""`inspectbot run --workers N`: what it refuses, and the supervisor keeping N processes up.

The supervisor is driven with real child processes (small Python scripts standing in for
the bot), real signals and real exit codes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.app import build_application
from bot.cli import main
from bot.config import AppConfig
from bot.services import Services
from bot.workers import WorkerSlot, refusal, worker_command
from tests.utils.telegram import RecordingRequest

PG = "postgresql://bot@db.internal/inspectbot"


def _config(tmp_path: Path, *, database: str, mode: str = "webhook") -> Path:
    path = tmp_path / "config.toml"
    hook = 'webhook_url = "https://bot.example.gov.cn/hook/inspectbot"\n' if mode == "webhook" else ""
    path.write_text(
        f'[telegram]\ntoken = "123:abc"\nmode = "{mode}"\n{hook}'
        f'[database]\nurl = "{database}"\n[storage]\ndata_dir = "{tmp_path / "data"}"\n',
        encoding="utf-8")
    return path


def test_several_workers_on_sqlite_are_refused_in_both_languages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path, database=f"sqlite:///{tmp_path / 'bot.db'}")
    assert main(["-c", str(path), "run", "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert "需要 PostgreSQL" in err and "needs PostgreSQL" in err
    assert "database is locked" in err


def test_several_workers_need_webhook_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path, database=PG, mode="polling")
    assert main(["-c", str(path), "run", "--workers", "3"]) == 2
    err = capsys.readouterr().err
    assert "需要 webhook 模式" in err and "needs webhook mode" in err


@pytest.mark.parametrize("workers", ["0", "-1", "two"])
def test_a_worker_count_below_one_is_an_argument_error(tmp_path: Path, workers: str) -> None:
    path = _config(tmp_path, database=PG)
    with pytest.raises(SystemExit) as exit_:
        main(["-c", str(path), "run", "--workers", workers])
    assert exit_.value.code == 2


def test_what_is_allowed() -> None:
    assert refusal(workers=1, mode="polling", database_url="sqlite:///x.db") is None
    assert refusal(workers=4, mode="webhook", database_url=PG) is None


def test_slots_ports_and_the_one_that_registers() -> None:
    slots = [WorkerSlot.parse(f"{i}/3") for i in range(3)]
    assert [s.port(8443) for s in slots] == [8443, 8444, 8445]
    assert [s.registers for s in slots] == [True, False, False]
    with pytest.raises(ValueError):
        WorkerSlot.parse("3/3")


def test_the_worker_command_is_the_bot_with_the_same_config(tmp_path: Path) -> None:
    command = worker_command(tmp_path / "c.toml", verbose=True, slot=WorkerSlot(1, 2))
    assert command[:3] == [sys.executable, "-m", "bot"]
    assert command[3:] == ["--config", str((tmp_path / "c.toml").resolve()), "--verbose",
                           "run", "--worker", "1/2"]


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "worker.py"
    path.write_text(body, encoding="utf-8")
    return path


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_crashed_worker_is_restarted_and_all_stop_on_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "log"
    script = _script(tmp_path, f"""
import os, signal, sys, time
index = int(sys.argv[1])
with open({str(log)!r}, "a") as out:
    out.write(f"start {{index}} {{os.getpid()}}\\n")
def stop(*_):
    with open({str(log)!r}, "a") as out:
        out.write(f"stop {{index}}\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
time.sleep(600)
""")
    process = _spawn_supervisor(tmp_path, supervisor_args=(str(script), 2))
    try:
        _wait_for(lambda: len([x for x in _lines(log) if x.startswith("start")]) == 2)
        first = next(x for x in _lines(log) if x.startswith("start 1")).split()[2]
        os.kill(int(first), signal.SIGKILL)
        _wait_for(lambda: len([x for x in _lines(log) if x.startswith("start 1")]) == 2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    stops = sorted(x for x in _lines(log) if x.startswith("stop"))
    assert stops == ["stop 0", "stop 1"]  # each running worker was asked to stop


def test_a_fatal_exit_stops_every_worker_with_its_code(tmp_path: Path) -> None:
    log = tmp_path / "log"
    script = _script(tmp_path, f"""
import signal, sys, time
index = int(sys.argv[1])
if index == 1:
    time.sleep(0.3)
    sys.exit(3)  # the schema is behind: no restart will help
def stop(*_):
    with open({str(log)!r}, "a") as out:
        out.write(f"stop {{index}}\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
time.sleep(600)
""")
    process = _spawn_supervisor(tmp_path, supervisor_args=(str(script), 2))
    try:
        assert process.wait(timeout=20) == 3
    finally:
        if process.poll() is None:
            process.kill()
    assert _lines(log) == ["stop 0"]


def test_the_others_start_once_worker_0_is_ready(tmp_path: Path) -> None:
    log, flag = tmp_path / "log", tmp_path / "ready"
    script = _script(tmp_path, f"""
import pathlib, sys, time
index = int(sys.argv[1])
with open({str(log)!r}, "a") as out:
    out.write(f"start {{index}}\\n")
if index == 0:
    time.sleep(1.0)  # start-up work on the database
    with open({str(log)!r}, "a") as out:
        out.write("ready 0\\n")
    pathlib.Path({str(flag)!r}).touch()
time.sleep(600)
""")
    process = _spawn_supervisor(tmp_path, supervisor_args=(str(script), 3), ready=flag)
    try:
        _wait_for(lambda: len(_lines(log)) == 4)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert _lines(log)[:2] == ["start 0", "ready 0"]
    assert sorted(_lines(log)[2:]) == ["start 1", "start 2"]


def _spawn_supervisor(tmp_path: Path, *, supervisor_args: tuple[str, int],
                      ready: Path | None = None) -> subprocess.Popen[bytes]:
    """The supervisor in a process of its own, so its signal handlers are the real ones."""
    script, count = supervisor_args
    runner = tmp_path / "supervise.py"
    check = "None" if ready is None else f"lambda slot: pathlib.Path({str(ready)!r}).exists()"
    runner.write_text(f"""
import pathlib, sys
from bot.workers import Supervisor
sys.exit(Supervisor(lambda slot: [sys.executable, {script!r}, str(slot.index)], {count},
                    ready={check}, restart_delays=(0.1,), stop_grace=10).run())
""", encoding="utf-8")
    return subprocess.Popen([sys.executable, str(runner)], cwd=Path(__file__).parents[2])


@pytest.mark.parametrize(("index", "registers"), [(0, True), (1, False)])
def test_each_worker_keeps_its_share_of_telegrams_limits(
    config: AppConfig, index: int, registers: bool
) -> None:
    """Telegram's 30 a second and 20 a minute per group are the bot's: N workers share them."""
    app = build_application(config, worker=WorkerSlot(index, 2), request=RecordingRequest(),
                            updater=False)
    services: Services = app.bot_data["services"]
    delivery = services.delivery.dispatcher.config
    assert delivery.global_per_second == config.reminders.delivery.global_per_second / 2
    assert delivery.group_per_minute == config.reminders.delivery.group_per_minute // 2
    assert delivery.private_per_second == config.reminders.delivery.private_per_second
    assert app.bot_data["registers"] is registers
