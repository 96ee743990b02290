"""Issue 15, "done when": two bot processes on one PostgreSQL and one object store, behind
nginx, serve the sandbox's users end to end.

The deployment of docs/deploy.md, on one machine: `inspectbot run --workers 2` as the
systemd unit starts it (secrets in the environment, as from its EnvironmentFile), nginx
with deploy/nginx/inspectbot.conf in front, evidence in an S3 bucket (moto), and
deploy/smoke.py as the guide tells the reader to run it. nginx's upstream is narrowed to
one worker at a time (and reloaded, as an operator would), so the upload is handled by
worker 0 and the review and the archive by worker 1; nginx's access log names the worker
of every update.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import random
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.config import AppConfig
from bot.core.clock import SystemClock
from bot.services import build_services
from db.models import Role
from sandbox import SandboxClient
from tests.conftest import PG_URL, UNLIMITED_FLOOD
from tests.e2e.conftest import document_of, sandbox_server
from tests.utils import factories as f
from tests.utils.evidence_files import jpeg
from tests.utils.nginx import (
    NGINX,
    NO_NGINX,
    Certificate,
    Nginx,
    free_port,
    render_site,
    self_signed,
)
from tests.utils.s3 import MotoServer

pytestmark = [
    pytest.mark.skipif(not PG_URL, reason="two workers need PostgreSQL: set TEST_DATABASE_URL"),
    pytest.mark.skipif(NGINX is None, reason=NO_NGINX),
]

REPO = Path(__file__).resolve().parents[2]
ZHANG, WANG, OFFICE = 4801, 4802, 4809
HOOK = "/hook/inspectbot"


def _two_free_ports() -> int:
    """A port P with P + 1 free as well (worker i listens on webhook_port + i).

    Below the kernel's ephemeral range: the workers bind them half a minute later on a
    loaded machine, and an outgoing connection must not take one meanwhile.
    """
    for _ in range(100):
        base = random.randrange(20000, 32000)
        with contextlib.ExitStack() as stack:
            try:
                for port in (base, base + 1):
                    probe = stack.enter_context(socket.socket())
                    probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return base
    raise RuntimeError("no two consecutive free ports")


def _toml(value: object) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _write_config(path: Path, sections: dict[str, dict[str, object]]) -> None:
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def _seed(config: AppConfig) -> int:
    services = build_services(config)
    now = SystemClock().now()
    try:
        async with services.session() as s:
            c = await f.campaign(s)
            await f.phase(s, c, "整改", starts=date(2026, 9, 1))
            edu = await f.unit(s, "县教育局")
            zhang = await f.person(s, "张三", unit=edu, telegram_id=ZHANG)
            wang = await f.person(s, "王局长", unit=edu, telegram_id=WANG)
            await f.person(s, "迎检办", role=Role.ADMIN, telegram_id=OFFICE)
            edu.leader_id = wang.id
            lab = await f.task(s, c, unit=edu, owner=zhang, title="实验室标识标牌",
                               due_at=now + timedelta(days=5))
            return lab.id
    finally:
        await services.db.dispose()


class Deployment:
    """The supervisor process and nginx, as the guide sets them up."""

    def __init__(self, root: Path, config: Path, env: dict[str, str], nginx: Nginx,
                 certificate: Certificate, ports: list[int]) -> None:
        self.root, self.config, self.env, self.ports = root, config, env, ports
        self.nginx, self.certificate = nginx, certificate
        self.log = root / "bot.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "--config", str(self.config), "run",
                 "--workers", str(len(self.ports))],
                stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=self.root)

    def smoke(self) -> subprocess.CompletedProcess[str]:
        """deploy/smoke.py exactly as docs/deploy.md runs it."""
        return subprocess.run(
            [sys.executable, str(REPO / "deploy" / "smoke.py"), "--config", str(self.config),
             "--workers", str(len(self.ports))],
            capture_output=True, text=True, env=self.env, cwd=self.root, timeout=60)

    def wait_ready(self, timeout: float = 90.0) -> subprocess.CompletedProcess[str]:
        """Every worker listening, then deploy/smoke.py passing (worker 0 registers last)."""
        deadline = time.monotonic() + timeout
        for port in self.ports:
            while True:
                with contextlib.suppress(OSError), socket.create_connection(
                        ("127.0.0.1", port), timeout=0.5):
                    break
                assert self.process is not None and self.process.poll() is None, self.output()
                assert time.monotonic() < deadline, f"port {port} closed\n{self.output()}"
                time.sleep(0.1)
        while True:
            result = self.smoke()
            if result.returncode == 0:
                return result
            assert time.monotonic() < deadline, result.stdout + self.output()
            time.sleep(0.5)

    def route_to(self, port: int) -> None:
        """Narrow nginx's upstream to one worker and reload nginx, as an operator would."""
        self.nginx.reload(render_site(port=self.nginx.port, upstream=[port],
                                      workers=self.ports, certificate=self.certificate,
                                      logs=self.nginx.root / "logs"))

    def stop(self) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def _upstreams(nginx: Nginx) -> list[str]:
    """The worker of each webhook POST, in order, from nginx's access log."""
    log = (nginx.root / "logs" / "access.log").read_text()
    return re.findall(rf'"POST {HOOK} HTTP/1.1" 200 \d+ upstream=(\S+)', log)


@pytest.fixture
def deployment(tmp_path: Path, config: AppConfig, sandbox: SandboxClient, moto: MotoServer,
               s3_bucket: str) -> Iterator[tuple[Deployment, AppConfig]]:
    base = _two_free_ports()
    ports = [base, base + 1]
    certificate = self_signed(tmp_path)
    nginx_port = free_port()
    nginx = Nginx(tmp_path / "nginx", nginx_port, render_site(
        port=nginx_port, upstream=[ports[0]], workers=ports, certificate=certificate,
        logs=tmp_path / "nginx" / "logs"))
    s3 = moto.s3_section(s3_bucket)
    secrets = {"INSPECTBOT_TOKEN": str(sandbox.token),
               "INSPECTBOT_S3_ACCESS_KEY_ID": str(s3.pop("access_key_id")),
               "INSPECTBOT_S3_SECRET_ACCESS_KEY": str(s3.pop("secret_access_key"))}
    sections: dict[str, dict[str, object]] = {
        "telegram": {"base_url": sandbox.base_url, "base_file_url": sandbox.base_file_url,
                     "mode": "webhook", "webhook_url": f"https://127.0.0.1:{nginx_port}{HOOK}",
                     "webhook_listen": "127.0.0.1", "webhook_port": base,
                     "webhook_certificate": str(certificate.cert)},
        "database": {"url": PG_URL},
        "storage": {"data_dir": str(tmp_path / "data"), "backend": "s3"},
        "storage.s3": s3,
        "flood": dict(UNLIMITED_FLOOD),
    }
    path = tmp_path / "config.toml"
    _write_config(path, sections)
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSPECTBOT_")}
    env.update(secrets)
    env["PYTHONPATH"] = str(REPO)
    in_process = AppConfig.model_validate({
        **{k: v for k, v in sections.items() if k != "storage.s3"},
        "storage": {**sections["storage"], "s3": moto.s3_section(s3_bucket)},
        "telegram": {**sections["telegram"], "token": sandbox.token},
    })
    nginx.start()
    bot = Deployment(tmp_path, path, env, nginx, certificate, ports)
    try:
        yield bot, in_process
    finally:
        code = bot.stop()
        nginx.stop()
        assert code in (0, None), bot.output()


async def test_two_workers_behind_nginx_serve_upload_review_and_archive(
    deployment: tuple[Deployment, AppConfig], sandbox: SandboxClient,
    moto: MotoServer, s3_bucket: str,
) -> None:
    bot, config = deployment
    lab = await _seed(config)
    zhang, wang, office = [await sandbox.add_user(name, user_id=uid, started=True)
                           for name, uid in (("张三", ZHANG), ("王局长", WANG), ("迎检办", OFFICE))]
    bot.start()
    ready = await asyncio.to_thread(bot.wait_ready)
    assert "全部通过 / all checks passed" in ready.stdout
    # Worker 0 alone registered the bot: one setWebhook (with the uploaded certificate).
    requests = (await sandbox.stats())["requests"]
    assert requests.get("setWebhook") == 1, requests
    assert (await sandbox.request("GET", "/info"))["webhook"].endswith(HOOK)
    first, second = (f"127.0.0.1:{p}" for p in bot.ports)

    # Worker 0 takes the upload; the file goes to the bucket, not to a disk.
    photo = jpeg(color=(40, 120, 40), taken=datetime(2026, 11, 20, 9, 0))
    await zhang.send_document(photo, filename="门牌.jpg", caption=f"#{lab} 门牌")
    await zhang.expect_message(contains="收到 1 份", timeout=15)
    await zhang.send(f"/submit {lab}")
    await zhang.expect_message(contains="已提交审核")
    await wang.expect_message(contains="/review", timeout=15)
    uploads = _upstreams(bot.nginx)
    assert uploads and set(uploads) == {first}, uploads
    keys = [o["Key"] for o in moto.client().list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert len(keys) == 1

    # Worker 1 takes the review and the archive, reading the file from the bucket.
    await asyncio.to_thread(bot.route_to, bot.ports[1])
    await wang.send("/review")
    card = await wang.expect_message(where=lambda m: m.document is not None, timeout=15)
    await wang.press(card, "✅ 通过")
    await wang.expect_edit(card, contains="已通过")
    await office.send("/archive")
    delivered = await office.expect_message(where=lambda m: m.document is not None, timeout=20)
    stored = sandbox_server(sandbox).state.media.get(document_of(delivered)["file_id"])
    archive = zipfile.ZipFile(io.BytesIO(stored.data))
    assert photo in [archive.read(name) for name in archive.namelist()]
    later = _upstreams(bot.nginx)[len(uploads):]
    assert later and set(later) == {second}, later

    # What Prometheus scrapes: each worker's own metrics, through nginx from this machine;
    # each counted the updates it handled, and only those.
    # An update is counted when its handling ends, and the approval's goes on after the
    # card's edit (the owner is told, the queue moves on): scrape until it is in.
    tls = ssl.create_default_context(cafile=str(bot.certificate.cert))
    deadline = time.monotonic() + 30
    while True:
        handled: list[set[str]] = []
        async with httpx.AsyncClient(verify=tls, timeout=10) as client:
            for index in range(len(bot.ports)):
                metrics = await client.get(
                    f"https://127.0.0.1:{bot.nginx.port}/workers/{index}/metrics")
                assert metrics.status_code == 200
                handled.append(_handled(metrics.text))
        if "ev:ok" in handled[1] or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert {"document", "submit"} <= handled[0] and "archive" not in handled[0], handled
    assert {"review", "ev:ok", "archive"} <= handled[1] and "document" not in handled[1], handled


def _handled(metrics: str) -> set[str]:
    """The names of the updates a worker counted as handled (`inspectbot_updates_total`)."""
    found = re.findall(r'^inspectbot_updates_total\{([^}]*)\} ([0-9.e+]+)$', metrics, re.MULTILINE)
    names = set()
    for labels, value in found:
        name = re.search(r'name="([^"]*)"', labels)
        if name and float(value) > 0:
            names.add(name.group(1))
    return names
