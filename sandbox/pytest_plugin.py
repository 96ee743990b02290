"""pytest plugin: a fresh sandbox Bot API server per test.

Enable with ``pytest_plugins = ["sandbox.pytest_plugin"]``. Server settings go in a
marker, e.g. ``@pytest.mark.sandbox(rate_limits=RateLimitConfig(enabled=False))``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from .app import SandboxServer
from .client import SandboxClient


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sandbox(**settings): SandboxConfig fields for the sandbox fixture's server"
    )


@pytest_asyncio.fixture
async def sandbox(request: pytest.FixtureRequest) -> AsyncIterator[SandboxClient]:
    """A running SandboxServer on a free port and a client for it; ``.server`` holds the server."""
    marker = request.node.get_closest_marker("sandbox")
    settings = dict(marker.kwargs) if marker else {}
    server = SandboxServer(**settings)
    await server.start()
    client = SandboxClient.for_server(server)
    try:
        yield client
    finally:
        await client.close()
        await server.stop()
