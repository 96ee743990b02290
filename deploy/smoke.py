"""After installing or upgrading: is the bot reachable the way Telegram reaches it?

    sudo -u inspectbot /opt/inspectbot/.venv/bin/python /opt/inspectbot/deploy/smoke.py \\
        --config /etc/inspectbot/config.toml --workers 2

Run on the bot's machine (docs/deploy.md, "Check the installation"). Each line is one
check; the exit status is 0 only when all pass. tests/e2e/test_deploy_two_workers_e2e.py
runs this same script against two workers behind nginx.

1. The database answers and its schema is the code's (else: `inspectbot db upgrade`).
2. Each worker's /healthz answers 200 on its own port (webhook_port + i).
3. Each worker's /metrics answers in Prometheus's format (what Prometheus scrapes).
4. Webhook mode: the public webhook address answers over TLS, through the proxy, and
   refuses a POST without Telegram's secret (403): the path reaches the bot, and the bot
   checks the secret.
5. Telegram (getWebhookInfo): the registered address is webhook_url, and Telegram reports
   no delivery error in the last 10 minutes.

Nothing secret is printed: not the token, not the webhook secret.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

# Run as a file from a checkout or an installed tree: the bot's packages sit one level up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import AppConfig, ConfigError, load_config, resolve_config_path
from db import migrate
from db.session import Database

RECENT_ERROR_SECONDS = 600
TIMEOUT = 10.0


class CheckFailed(Exception):
    pass


def _get(url: str, *, context: ssl.SSLContext | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT, context=context) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def _post(url: str, body: bytes, *, context: ssl.SSLContext | None) -> int:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=context) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def check_schema(config: AppConfig) -> str:
    async def state() -> migrate.SchemaState:
        database = Database(config.database.url)
        try:
            return await migrate.schema_state(database.engine)
        finally:
            await database.dispose()

    found = asyncio.run(state())
    if not found.up_to_date:
        raise CheckFailed(f"schema {found.current or 'empty'}, expected {found.expected}: "
                          "run `inspectbot db upgrade`")
    return f"schema {found.expected}"


def worker_ports(config: AppConfig, workers: int) -> list[int]:
    return [config.telegram.webhook_port + i for i in range(workers)]


def check_health(config: AppConfig, port: int) -> str:
    status, body = _get(f"http://{config.telegram.webhook_listen}:{port}/healthz")
    if status != 200:
        raise CheckFailed(f"port {port}: /healthz {status} {body[:300].decode(errors='replace')}")
    return f"port {port}: healthy"


def check_metrics(config: AppConfig, port: int) -> str:
    status, body = _get(f"http://{config.telegram.webhook_listen}:{port}/metrics")
    names = {line.split()[2] for line in body.decode(errors="replace").splitlines()
             if line.startswith("# TYPE ")}
    if status != 200 or not names:
        raise CheckFailed(f"port {port}: /metrics answered {status} with {len(names)} metrics")
    ours = sum(1 for n in names if n.startswith("inspectbot_"))
    return f"port {port}: {len(names)} metrics, {ours} of them the bot's own"


def _public_tls(config: AppConfig) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if config.telegram.webhook_certificate:
        context.load_verify_locations(cafile=config.telegram.webhook_certificate)
    return context


def check_public_path(config: AppConfig) -> str:
    url = config.telegram.webhook_url
    status = _post(url, b'{"update_id": 0}', context=_public_tls(config))
    if status != 403:
        raise CheckFailed(f"{url}: a POST without the secret got {status}, expected 403 "
                          "(404: the proxy's location or webhook_path; 502: no worker behind it)")
    return f"{url}: reaches the bot, secret enforced"


def check_telegram(config: AppConfig) -> str:
    telegram = config.telegram
    base = telegram.base_url or "https://api.telegram.org/bot"
    status, body = _get(f"{base}{telegram.token.get_secret_value()}/getWebhookInfo")
    if status != 200:
        raise CheckFailed(f"getWebhookInfo answered {status}")
    info: dict[str, Any] = json.loads(body)["result"]
    if info.get("url") != telegram.webhook_url:
        raise CheckFailed(f"Telegram posts to {info.get('url') or 'nowhere'!r}, "
                          f"not {telegram.webhook_url!r}: is worker 0 running?")
    last = info.get("last_error_date")
    if last is not None and time.time() - float(last) < RECENT_ERROR_SECONDS:
        raise CheckFailed(f"Telegram's last delivery failed: {info.get('last_error_message')}")
    return f"registered, {info.get('pending_update_count', 0)} updates pending"


def checks(config: AppConfig, workers: int) -> list[tuple[str, Callable[[], str]]]:
    found: list[tuple[str, Callable[[], str]]] = [
        ("数据库 / database", lambda: check_schema(config))]
    if config.telegram.mode != "webhook":
        return found
    for port in worker_ports(config, workers):
        found.append(("健康检查 / health", partial(check_health, config, port)))
    for port in worker_ports(config, workers):
        found.append(("指标 / metrics", partial(check_metrics, config, port)))
    found.append(("公网地址 / public address", lambda: check_public_path(config)))
    found.append(("Telegram webhook", lambda: check_telegram(config)))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="check an installed inspectbot")
    parser.add_argument("-c", "--config", help="the bot's TOML configuration")
    parser.add_argument("--workers", type=int, default=1,
                        help="the N of `inspectbot run --workers N`")
    args = parser.parse_args(argv)
    try:
        config = load_config(resolve_config_path(args.config))
    except ConfigError as exc:
        print(f"配置错误 / configuration error:\n{exc}", file=sys.stderr)
        return 2
    failed = 0
    for name, check in checks(config, args.workers):
        try:
            print(f"✔ {name}: {check()}")
        except (CheckFailed, OSError) as exc:
            failed += 1
            print(f"✘ {name}: {exc}")
    print("全部通过 / all checks passed" if not failed else f"{failed} 项未通过 / failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
