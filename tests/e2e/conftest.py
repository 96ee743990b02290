"""End-to-end: the real bot, built by `build_application`, talking HTTP to the sandbox.

`start_bot()` starts it in polling or webhook mode and can be called again after
`stop()` to simulate a restart against the same database.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.app import Intake, build_application, start_intake
from bot.config import AppConfig, TelegramConfig
from bot.core.clock import Clock
from bot.services import Services, build_services
from handlers.context import AppType
from sandbox import SandboxClient, SandboxServer
from sandbox.limits import RateLimitConfig
from sandbox.views import ChatMessage


def sandbox_server(sandbox: SandboxClient) -> SandboxServer:
    """The in-process server behind the fixture (to read stored files directly)."""
    assert sandbox.server is not None
    return sandbox.server


def document_of(message: ChatMessage) -> dict[str, Any]:
    assert message.document is not None, message.summary()
    return dict(message.document)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveBot:
    app: AppType
    services: Services
    mode: str
    config: AppConfig
    intake: Intake
    _stopped: bool = field(default=False)

    async def stop(self) -> None:
        """Stop like a process would on SIGTERM: updater, application, hooks, connections."""
        if self._stopped:
            return
        self._stopped = True
        await self.intake.stop()
        if self.app.running:
            await self.app.stop()
        if self.app.post_shutdown is not None:
            await self.app.post_shutdown(self.app)
        await self.app.shutdown()


StartBot = Callable[..., Awaitable[LiveBot]]


def sandbox_config(config: AppConfig, sandbox: SandboxClient, *, ops_port: int = 0,
                   **telegram: Any) -> AppConfig:
    """The sandbox's address and token; in polling mode no /healthz server unless asked."""
    assert sandbox.token is not None
    # Validate again (model_copy would not) so the token becomes a SecretStr as in a file.
    section = TelegramConfig.model_validate(
        {
            **config.telegram.model_dump(),
            "token": sandbox.token,
            "base_url": sandbox.base_url,
            "base_file_url": sandbox.base_file_url,
            **telegram,
        }
    )
    ops = config.ops.model_copy(update={"port": ops_port})
    return config.model_copy(update={"telegram": section, "ops": ops})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Telegram tolerates a short burst in a private chat (a reply and a card); the
    # sandbox is strict by default, so end-to-end tests allow the same small burst.
    for item in items:
        if item.get_closest_marker("sandbox") is None and "tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.sandbox(rate_limits=RateLimitConfig(private_burst=3)))


@pytest.fixture
async def start_bot(
    sandbox: SandboxClient, config: AppConfig
) -> AsyncIterator[StartBot]:
    running: list[LiveBot] = []

    async def start(
        *, mode: str = "polling", clock: Clock | None = None, ops_port: int = 0,
        **telegram: Any
    ) -> LiveBot:
        if mode == "webhook":
            # As `inspectbot run` would serve it: the config's address and secret (derived
            # from the token unless the test sets one), through the same arguments.
            port = free_port()
            telegram = {"mode": "webhook", "webhook_listen": "127.0.0.1",
                        "webhook_port": port,
                        "webhook_url": f"http://127.0.0.1:{port}/hook/inspectbot", **telegram}
        cfg = sandbox_config(config, sandbox, ops_port=ops_port, **telegram)
        services = build_services(cfg, clock=clock)
        app = build_application(cfg, services=services)
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        # As `inspectbot run` starts it: the webhook server (with /healthz and /metrics) and
        # setWebhook, or polling.
        intake = await start_intake(app, cfg, poll_timeout=1)
        await app.start()
        live = LiveBot(app, services, mode, cfg, intake)
        running.append(live)
        return live

    yield start
    for live in reversed(running):
        await live.stop()


@pytest.fixture(params=["polling", "webhook"])
async def live_bot(request: pytest.FixtureRequest, start_bot: StartBot) -> LiveBot:
    """The bot running against the sandbox, once per update delivery mode."""
    return await start_bot(mode=request.param)


@pytest.fixture
async def polling_bot(start_bot: StartBot) -> LiveBot:
    return await start_bot(mode="polling")
