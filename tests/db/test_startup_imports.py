"""`inspectbot run` starts without the modules only some commands need.

jieba (its IDF table, ~0.4 s and ~100 MB), matplotlib (~0.3 s), Alembic and Mako (~0.1 s),
openpyxl with numpy (~0.3 s), python-docx and the sandbox are loaded when a drill, a chart,
a migration, a workbook, a bulletin file or the demo first needs them. (aiohttp is not
among them: it carries every Bot API request, `bot.delivery.transport`.) Checked in a fresh interpreter, through the
run path up to where polling would begin: the command line, the application, its
post-init (schema check, menus, scheduler, every feature's start, the edge's start-up).
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("jieba", "matplotlib", "alembic", "mako", "sandbox", "docx", "openpyxl", "numpy")

_RUN_PATH = """
import asyncio, json, sys

import bot.cli  # everything `inspectbot run` imports before it parses its arguments
from bot.app import build_application
from bot.config import AppConfig

config = AppConfig.model_validate({
    "telegram": {"token": "123456:TEST", "base_url": sys.argv[3]},
    "database": {"url": sys.argv[1]},
    "storage": {"data_dir": sys.argv[2]},
})


async def start() -> None:
    app = build_application(config)
    await app.initialize()
    try:
        await app.post_init(app)  # what run_polling awaits before its first getUpdates
    finally:
        await app.post_shutdown(app)
        await app.shutdown()


asyncio.run(start())
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in HEAVY)))
"""


class _BotApi(http.server.BaseHTTPRequestHandler):
    """Answers every Bot API method as Telegram would when nothing happens."""

    def do_POST(self) -> None:
        method = self.path.rsplit("/", 1)[-1]
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        result: object = True
        if method == "getMe":
            result = {"id": 123456, "is_bot": True, "first_name": "test", "username": "t_bot"}
        elif method == "getUpdates":
            result = []
        body = json.dumps({"ok": True, "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def bot_api() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BotApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/bot"
    server.shutdown()
    server.server_close()


def test_the_run_path_leaves_heavy_modules_unloaded(
    database_url: str, tmp_path: Path, bot_api: str
) -> None:
    script = f"HEAVY = {HEAVY!r}\n{_RUN_PATH}"
    done = subprocess.run(
        [sys.executable, "-c", script, database_url, str(tmp_path / "data"), bot_api],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == [], f"loaded at start-up: {', '.join(loaded)}"
