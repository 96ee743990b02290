"""Helpers for the sandbox's own tests: a real PTB Bot pointed at the sandbox, images, ports."""

from __future__ import annotations

import io
import socket
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from PIL import Image
from telegram import Bot

from sandbox import SandboxClient

from .echo_bot import EchoApp, build_echo_bot


@pytest_asyncio.fixture
async def bot(sandbox: SandboxClient) -> AsyncIterator[Bot]:
    """python-telegram-bot's own Bot, talking to the sandbox instead of Telegram."""
    assert sandbox.token is not None
    async with Bot(
        sandbox.token, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url
    ) as ptb_bot:
        yield ptb_bot


@pytest_asyncio.fixture
async def polling_bot(sandbox: SandboxClient) -> AsyncIterator[EchoApp]:
    """A tiny PTB echo bot polling the sandbox (the product's handlers are not needed here)."""
    assert sandbox.token is not None
    app = build_echo_bot(sandbox.token, sandbox.base_url, sandbox.base_file_url)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        yield app
        await app.updater.stop()
        await app.stop()


def make_jpeg(width: int = 1600, height: int = 1200, color: str = "steelblue") -> bytes:
    """A JPEG carrying EXIF, so tests can check the sandbox strips it like Telegram."""
    image = Image.new("RGB", (width, height), color)
    exif = Image.Exif()
    exif[0x010F] = "SandboxCam"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


@pytest.fixture
def jpeg() -> Callable[..., bytes]:
    return make_jpeg


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
