"""Every file in deploy/ is read by the program that will read it in production.

The systemd unit: `systemd-analyze verify` (when the machine has it) with a warning counted
as a failure, and its ExecStart parsed by `inspectbot`'s own argument parser. The nginx
site: `nginx -t` (when nginx is installed); tests/e2e/test_deploy_e2e.py serves it.
"""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.cli import _parser
from bot.workers import FATAL_EXIT_CODES
from tests.utils.nginx import NGINX, NO_NGINX, Nginx, free_port, render_site, self_signed

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNIT = DEPLOY / "systemd" / "inspectbot.service"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def _unit() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_every_file_in_deploy_is_tested() -> None:
    files = sorted(str(p.relative_to(DEPLOY)) for p in DEPLOY.rglob("*") if p.is_file())
    assert files == ["nginx/inspectbot.conf", "smoke.py", "systemd/inspectbot.service"]


def test_the_unit_runs_the_supervisor_with_arguments_inspectbot_accepts() -> None:
    command = shlex.split(_unit()["Service"]["ExecStart"])
    assert command[0].endswith("/bin/inspectbot")
    args = _parser().parse_args(command[1:])
    assert args.command == "run" and args.workers == 2
    assert args.config == "/etc/inspectbot/config.toml"


def test_the_unit_is_hardened() -> None:
    service = _unit()["Service"]
    assert service["User"] == "inspectbot"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/inspectbot"
    assert service["EnvironmentFile"] == "/etc/inspectbot/env"
    assert service["Restart"] == "on-failure"
    # configuration (2), schema (3) and port (4) errors are not restarted in a loop
    assert set(service["RestartPreventExitStatus"].split()) == set(map(str, FATAL_EXIT_CODES))
    assert "TOKEN" not in UNIT.read_text().split("[Unit]")[1]  # no secret in the unit


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    # The installed paths do not exist here: point ExecStart at this checkout's
    # inspectbot and run as the current user; every other line is verified as written.
    inspectbot = shutil.which("inspectbot") or str(Path(__file__).resolve().parents[2]
                                                   / ".venv" / "bin" / "inspectbot")
    text = UNIT.read_text(encoding="utf-8")
    text = text.replace("/opt/inspectbot/.venv/bin/inspectbot", inspectbot)
    text = text.replace("User=inspectbot", "User=root").replace("Group=inspectbot", "Group=root")
    unit = tmp_path / "inspectbot.service"
    unit.write_text(text, encoding="utf-8")
    assert SYSTEMD_ANALYZE is not None
    result = subprocess.run([SYSTEMD_ANALYZE, "verify", str(unit)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # verify only warns about an unknown key or a bad value; here a warning is a failure
    assert result.stderr.strip() == "", result.stderr


@pytest.mark.skipif(NGINX is None, reason=NO_NGINX)
def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    certificate = self_signed(tmp_path)
    server = Nginx(tmp_path / "nginx", free_port(), render_site(
        port=free_port(), upstream=[free_port(), free_port()], certificate=certificate,
        logs=tmp_path / "nginx" / "logs"))
    result = server.check()
    assert result.returncode == 0, result.stderr
    assert "warn" not in result.stderr, result.stderr
