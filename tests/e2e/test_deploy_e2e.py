"""Issue 15, deployment: Telegram's webhook through deploy/nginx/inspectbot.conf.

nginx runs the site file itself (only the lines a county edits are replaced) on a high port
with a self-signed certificate for 127.0.0.1, which the bot uploads with setWebhook as a
county without a public name would. The sandbox posts every update over TLS to nginx, and
nginx passes it to the bot's webhook port.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox import SandboxClient
from tests.e2e.conftest import StartBot
from tests.utils.nginx import NGINX, NO_NGINX, Certificate, Nginx, running_nginx, self_signed
from tests.utils.s3 import free_port

pytestmark = pytest.mark.skipif(NGINX is None, reason=NO_NGINX)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HOOK = "/hook/inspectbot"


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return self_signed(tmp_path)


@pytest.fixture
def worker_port() -> int:
    return free_port()


@pytest.fixture
def nginx(tmp_path: Path, certificate: Certificate, worker_port: int) -> Iterator[Nginx]:
    with running_nginx(tmp_path / "nginx", upstream=[worker_port],
                       certificate=certificate) as server:
        yield server


def _client(certificate: Certificate, *, source: str = "127.0.0.1") -> httpx.Client:
    tls = ssl.create_default_context(cafile=str(certificate.cert))
    return httpx.Client(verify=tls, timeout=10,
                        transport=httpx.HTTPTransport(verify=tls, local_address=source))


async def test_the_sandbox_delivers_through_nginx_over_tls(
    start_bot: StartBot, sandbox: SandboxClient, nginx: Nginx, certificate: Certificate,
    worker_port: int,
) -> None:
    public = f"https://127.0.0.1:{nginx.port}{HOOK}"
    await start_bot(mode="webhook", webhook_port=worker_port, webhook_url=public,
                    webhook_certificate=str(certificate.cert))
    info = await sandbox.request("GET", "/info")
    assert info["webhook"] == public

    user = await sandbox.add_user("陌生人", user_id=4700001)
    await user.send("/help")
    await user.expect_message()  # whatever the bot says, the update got through nginx

    access = (nginx.root / "logs" / "access.log").read_text()
    assert f'"POST {HOOK} HTTP/1.1" 200' in access
    assert f"upstream=127.0.0.1:{worker_port}" in access


async def test_nginx_keeps_its_rules(
    start_bot: StartBot, nginx: Nginx, certificate: Certificate, worker_port: int,
) -> None:
    public = f"https://127.0.0.1:{nginx.port}{HOOK}"
    bot = await start_bot(mode="webhook", webhook_port=worker_port, webhook_url=public,
                          webhook_certificate=str(certificate.cert))
    secret = bot.config.telegram.webhook_secret_value
    base = f"https://127.0.0.1:{nginx.port}"

    def probe() -> dict[str, int]:
        with _client(certificate) as local, _client(certificate, source="127.0.0.2") as other:
            return {
                "forged": local.post(public, json={"update_id": 1}).status_code,
                "get": local.get(public, headers={SECRET_HEADER: secret}).status_code,
                "too large": local.post(public, content=b"{" + b" " * (1 << 20) + b"}",
                                        headers={SECRET_HEADER: secret}).status_code,
                "elsewhere": local.get(f"{base}/").status_code,
                "healthz from outside": other.get(f"{base}/healthz").status_code,
                "worker metrics from outside": other.get(
                    f"{base}/workers/0/metrics").status_code,
                "healthz here": local.get(f"{base}/healthz").status_code,
                "worker healthz here": local.get(f"{base}/workers/0/healthz").status_code,
                "worker metrics here": local.get(f"{base}/workers/0/metrics").status_code,
                "no such worker": local.get(f"{base}/workers/1/metrics").status_code,
                "metrics of any worker": local.get(f"{base}/metrics").status_code,
            }

    status = await asyncio.to_thread(probe)

    assert status["forged"] == 403  # the bot's secret check, reached through nginx
    assert status["get"] == 403  # limit_except POST
    assert status["too large"] == 413  # client_max_body_size
    assert status["elsewhere"] == 404
    assert status["healthz from outside"] == 403
    assert status["worker metrics from outside"] == 403
    assert status["healthz here"] == 200  # proxied to a worker
    assert status["worker healthz here"] == 200
    assert status["worker metrics here"] == 200
    assert status["no such worker"] == 404
    # each process counts for itself: only per-worker metrics are served
    assert status["metrics of any worker"] == 404
