"""The Bot API transport over aiohttp behaves as python-telegram-bot's own: form fields,
multipart uploads with their file names, downloads, and its timeouts and failures mapped to
PTB's errors without the token in their text. Against a real HTTP server on this machine."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.delivery.transport import AiohttpRequest

TOKEN = "123456:SECRET-token-value"
ME = {"ok": True, "result": {"id": 123456, "is_bot": True, "first_name": "迎检助手",
                            "username": "inspect_bot"}}
OK = {"ok": True, "result": {"message_id": 7, "date": 0, "chat": {"id": 5, "type": "private"},
                             "text": "好"}}


@pytest.fixture
async def api() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def method(request: web.Request) -> web.Response:
        name = request.match_info["method"]
        if name == "slow":
            await asyncio.sleep(2)
        entry: dict[str, Any] = {"method": name, "type": request.content_type}
        if request.content_type == "multipart/form-data":
            fields: dict[str, Any] = {}
            async for part in await request.multipart():
                body = await part.read()  # type: ignore[union-attr]
                fields[part.name or ""] = (part.filename, bytes(body))  # type: ignore[union-attr]
            entry["fields"] = fields
        else:
            entry["fields"] = dict(await request.post())
        seen.append(entry)
        return web.json_response(ME if name == "getMe" else OK)

    async def download(request: web.Request) -> web.Response:
        return web.Response(body=b"\x00evidence\xff")

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", method)
    app.router.add_get("/file/bot{token}/{path:.*}", download)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


async def test_a_message_goes_as_form_fields_and_its_answer_comes_back(api: Any) -> None:
    base, seen = api
    bot = Bot(TOKEN, base_url=f"{base}/bot", request=AiohttpRequest(connection_pool_size=4))
    async with bot:
        message = await bot.send_message(5, "任务已完成 ✅", disable_notification=True)
    assert message.message_id == 7
    sent = seen[-1]
    assert sent["method"] == "sendMessage"
    assert sent["type"] == "application/x-www-form-urlencoded"
    assert sent["fields"]["text"] == "任务已完成 ✅"
    assert sent["fields"]["disable_notification"] == "true"


async def test_a_document_goes_as_multipart_with_its_chinese_name(api: Any) -> None:
    base, seen = api
    bot = Bot(TOKEN, base_url=f"{base}/bot", request=AiohttpRequest(connection_pool_size=4))
    async with bot:
        await bot.send_document(5, InputFile(b"PK\x03\x04ledger", filename="迎检台账.xlsx"),
                                caption="台账")
    fields = seen[-1]["fields"]
    assert seen[-1]["type"] == "multipart/form-data"
    assert fields["document"] == ("迎检台账.xlsx", b"PK\x03\x04ledger")
    assert fields["caption"] == (None, "台账".encode())


async def test_the_proxy_in_the_environment_carries_the_requests(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, seen = api
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", base)  # the stand-in answers as the proxy would relay
    bot = Bot(TOKEN, base_url="http://api.telegram.invalid/bot",
              request=AiohttpRequest(connection_pool_size=2))
    async with bot:
        await bot.send_message(5, "经代理发送")
    assert seen[-1]["method"] == "sendMessage" and seen[-1]["fields"]["text"] == "经代理发送"


async def test_a_file_downloads_with_a_get(api: Any) -> None:
    base, _ = api
    request = AiohttpRequest()
    await request.initialize()
    try:
        data = await request.retrieve(f"{base}/file/bot{TOKEN}/photos/1.jpg")
    finally:
        await request.shutdown()
    assert data == b"\x00evidence\xff"


async def test_a_slow_answer_is_a_timeout(api: Any) -> None:
    base, _ = api
    request = AiohttpRequest(read_timeout=0.2)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"{base}/bot{TOKEN}/slow",
                               RequestData([RequestParameter("chat_id", 5, None)]))
    finally:
        await request.shutdown()


async def test_a_refused_connection_is_a_network_error_without_the_token() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest(connect_timeout=2)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()
    assert not isinstance(caught.value, TimedOut)
    assert TOKEN not in str(caught.value) and "SECRET" not in str(caught.value)


async def test_requests_before_initialize_are_refused() -> None:
    with pytest.raises(RuntimeError):
        await AiohttpRequest().do_request("http://127.0.0.1:1/", "GET")


def test_json_answers_parse_as_ptb_expects() -> None:
    assert AiohttpRequest.parse_json_payload(json.dumps(OK).encode())["ok"] is True
