"""Files a bot kept from an earlier run, served again; a start on a taken port."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from telegram import Bot
from telegram.error import BadRequest

from sandbox import RateLimitConfig, SandboxClient, SandboxServer

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox(rate_limits=RateLimitConfig(enabled=False))]


async def test_restored_files_are_served_under_the_ids_the_bot_kept(
    bot: Bot, sandbox: SandboxClient, jpeg: Callable[..., bytes]
) -> None:
    assert sandbox.server is not None
    media = sandbox.server.state.media
    photo = jpeg(640, 480)
    media.restore("kept-photo-1", photo, kind="photo", file_unique_id="kept-1")
    media.restore("kept-doc-1", b"%PDF-1.4 minutes", kind="document", file_name="纪要.pdf",
                  mime_type="application/pdf")
    alice = await sandbox.add_user("张三", started=True)

    sent = await bot.send_photo(alice.id, "kept-photo-1", caption="E1")
    assert [(p.width, p.height, p.file_unique_id) for p in sent.photo] == [(640, 480, "kept-1")]
    data = await (await bot.get_file("kept-photo-1")).download_as_bytearray()
    assert bytes(data) == photo
    doc = await bot.send_document(alice.id, "kept-doc-1")
    assert doc.document is not None and doc.document.file_name == "纪要.pdf"

    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(alice.id, "never-kept")


def test_restoring_a_photo_that_is_no_image_is_refused() -> None:
    from sandbox.media import MediaStore

    with pytest.raises(ValueError, match="no image"):
        MediaStore().restore("x", b"not a jpeg", kind="photo")


async def test_a_taken_port_leaves_nothing_half_started() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        server = SandboxServer(port=holder.getsockname()[1])
        with pytest.raises(OSError):
            await server.start()
        with pytest.raises(RuntimeError, match="not running"):
            _ = server.state
        await server.stop()  # nothing to stop, and no error
