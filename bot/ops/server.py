"""The bot's HTTP surface: Telegram's webhook, /healthz and /metrics on one port.

In webhook mode this replaces python-telegram-bot's own webhook server (which serves the
webhook and nothing else), keeping what it did: only the webhook's path, only a POST
carrying the secret Telegram was given (compared in constant time, 403 otherwise), a
bounded body, 400 for a body that is not an update. In polling mode it serves the two
operations routes alone. It knows nothing of Telegram's types: `deliver` turns the
decoded JSON into an update and queues it.

Imported only when the process serves HTTP, so a CLI command never loads aiohttp.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    disable_created_metrics,
    generate_latest,
)

from bot.ops import CannotListen
from bot.ops.health import HealthReport

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are a few kilobytes; a megabyte leaves room for the largest (a long
# message with many entities) and refuses anything meant to exhaust memory.
MAX_BODY_BYTES = 1 << 20
# How long a stopping server waits for requests in flight (an update being queued).
SHUTDOWN_SECONDS = 5.0


class NotAnUpdate(ValueError):
    """The body is JSON, but not something Telegram would send as an update."""


@dataclass(frozen=True)
class WebhookRoute:
    path: str  # without its leading slash, as [telegram] webhook_serve_path gives it
    secret: str
    deliver: Callable[[dict[str, Any]], Awaitable[None]]


class OpsServer:
    """One aiohttp site: the webhook (when given), /healthz and /metrics."""

    def __init__(self, *, health: Callable[[], Awaitable[HealthReport]],
                 webhook: WebhookRoute | None = None) -> None:
        self._health = health
        self._webhook = webhook
        self._runner: web.AppRunner | None = None
        self.port = 0

    def _application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        if self._webhook is not None:
            app.router.add_post("/" + self._webhook.path.strip("/"), self._update)
        return app

    async def start(self, host: str, port: int) -> None:
        # A `_created` series beside every counter doubles the exposition for nothing
        # Prometheus uses.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        # No access log: every probe and update would be a line, and paths say nothing useful.
        runner = web.AppRunner(self._application(), access_log=None,
                               shutdown_timeout=SHUTDOWN_SECONDS)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise CannotListen(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound = runner.addresses[0]
        self.port = int(bound[1]) if isinstance(bound, tuple) else port
        log.info("serving %s on %s:%d", self.routes, host, self.port)

    @property
    def routes(self) -> str:
        webhook = "the webhook, " if self._webhook is not None else ""
        return f"{webhook}/healthz and /metrics"

    async def stop(self) -> None:
        """Stop listening, then let requests in flight finish (up to SHUTDOWN_SECONDS)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _update(self, request: web.Request) -> web.Response:
        webhook = self._webhook
        assert webhook is not None
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), webhook.secret.encode()):
            return web.Response(status=403)
        try:
            body = await request.read()  # 413 past client_max_size, before it is all read
            data = json.loads(body)
            if not isinstance(data, dict):
                raise NotAnUpdate("not a JSON object")
            await webhook.deliver(data)
        except (ValueError, UnicodeDecodeError) as exc:
            # Class only: the body is what someone sent, and may be anything.
            log.warning("refused a webhook body that is not an update (%s)", type(exc).__name__)
            return web.Response(status=400)
        return web.Response(status=200)

    async def _healthz(self, request: web.Request) -> web.Response:
        report = await self._health()
        return web.json_response(report.as_json(), status=200 if report.healthy else 503,
                                 headers={"Cache-Control": "no-store"})

    async def _metrics(self, request: web.Request) -> web.Response:
        await self._health()  # the health and outbox gauges, as of this scrape
        return web.Response(body=generate_latest(REGISTRY),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})
