"""`make demo PORT=…` and a port that is already taken."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import AppConfig
from bot.demo.cli import demo_config

ROOT = Path(__file__).resolve().parents[2]


def test_make_demo_passes_the_port_on() -> None:
    dry_run = subprocess.run(["make", "-n", "demo", "PORT=8899"], cwd=ROOT, capture_output=True,
                             text=True, check=True)
    assert "inspectbot demo --port 8899" in dry_run.stdout


def test_make_demo_ignores_a_port_from_the_environment() -> None:
    # Hosting platforms export PORT for their own use; only `make demo PORT=…` counts.
    dry_run = subprocess.run(["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True,
                             check=True, env={"PATH": "/usr/bin:/bin", "PORT": "3000"})
    assert "inspectbot demo --port 8765" in dry_run.stdout


@pytest.fixture
def busy_port() -> Iterator[socket.socket]:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    yield holder
    holder.close()


def test_a_busy_port_gives_one_sentence_in_each_language_and_no_traceback(
    busy_port: socket.socket, tmp_path: Path
) -> None:
    port = busy_port.getsockname()[1]
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "bot", "-c", str(config), "demo", "--port", str(port),
         "--for-seconds", "5"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr + run.stdout
    assert run.stderr.strip().splitlines() == [
        f"端口 {port} 已被占用，演示未能启动：请关闭占用该端口的程序，或换一个端口，"
        f"例如 make demo PORT={port + 1}。",
        f"Port {port} is already in use, so the demo did not start: stop the program using "
        f"it or pick another port, e.g. make demo PORT={port + 1}.",
    ]
    # Nothing was set up for a demo that never started.
    assert not (tmp_path / "data" / "demo.db").exists()


def test_an_out_of_range_port_is_refused_by_the_parser(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "bot", "demo", "--port", "70000"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "0 to 65535" in run.stderr and "Traceback" not in run.stderr


def test_the_demo_never_writes_into_the_countys_bucket(tmp_path: Path) -> None:
    config = AppConfig.model_validate({"storage": {
        "data_dir": str(tmp_path), "backend": "s3",
        "s3": {"bucket": "county-evidence", "access_key_id": "AK", "secret_access_key": "SK"}}})
    demo = demo_config(config)
    assert demo.storage.backend == "local" and demo.storage.data_dir == tmp_path
    assert config.storage.backend == "s3"
