"""`inspectbot run` as its own process in webhook mode: it serves the webhook and /healthz
on one port, answers the sandbox's users, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp

from bot.config import AppConfig
from bot.services import Services
from db.models import Role
from sandbox import SandboxClient
from tests.e2e.conftest import free_port
from tests.utils import factories as f

ADMIN = 4900001


async def _healthz(url: str, *, within: float) -> dict[str, object]:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        body: dict[str, object] = await response.json()
                        return body
            except aiohttp.ClientConnectionError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} did not become healthy within {within}s")
            await asyncio.sleep(0.2)


async def test_the_process_serves_answers_and_stops_on_sigterm(
    sandbox: SandboxClient, config: AppConfig, services: Services, tmp_path: Path
) -> None:
    async with services.session() as s:
        await f.person(s, "王主任", role=Role.ADMIN, telegram_id=ADMIN)
    port = free_port()
    hook = f"http://127.0.0.1:{port}/tg/in"
    path = tmp_path / "config.toml"
    path.write_text(
        f'[telegram]\ntoken = "{sandbox.token}"\nbase_url = "{sandbox.base_url}"\n'
        f'base_file_url = "{sandbox.base_file_url}"\nmode = "webhook"\n'
        f'webhook_url = "{hook}"\nwebhook_port = {port}\n'
        f'[database]\nurl = "{config.database.url}"\n'
        f'[storage]\ndata_dir = "{config.storage.data_dir}"\n',
        encoding="utf-8",
    )
    admin = await sandbox.add_user("王主任", user_id=ADMIN, started=True)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "-c", str(path), "run",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        health = await _healthz(f"http://127.0.0.1:{port}/healthz", within=60)
        assert health["status"] == "ok"
        info = await sandbox.request("GET", "/info")
        assert info["webhook"] == hook

        await admin.send("/help")
        await admin.expect_message(contains="/", timeout=20)

        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
        output = (await process.communicate())[0].decode("utf-8", "replace")
    assert code == 0, output
    assert sandbox.token is not None
    assert sandbox.token not in output and sandbox.token not in json.dumps(health)


async def test_a_taken_port_is_named_and_the_process_exits(
    sandbox: SandboxClient, config: AppConfig, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = tmp_path / "config.toml"
        path.write_text(
            f'[telegram]\ntoken = "{sandbox.token}"\nbase_url = "{sandbox.base_url}"\n'
            f'mode = "webhook"\nwebhook_url = "http://127.0.0.1:{port}/tg/in"\n'
            f'webhook_port = {port}\n[database]\nurl = "{config.database.url}"\n'
            f'[storage]\ndata_dir = "{config.storage.data_dir}"\n',
            encoding="utf-8",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "-c", str(path), "run",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        async with asyncio.timeout(60):
            output = (await process.communicate())[0].decode("utf-8", "replace")

    assert process.returncode == 4, output
    assert f"cannot listen on 127.0.0.1:{port}" in output
    assert "Traceback" not in output
