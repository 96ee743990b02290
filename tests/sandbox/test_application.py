"""A real telegram.ext.Application, by long polling and by webhook, end to end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from aiohttp import web
from telegram import Bot

from sandbox import RateLimitConfig, SandboxClient, SandboxServer

from .conftest import free_port
from .echo_bot import QUIZ_EXPLANATION, EchoApp, build_echo_bot

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox(rate_limits=RateLimitConfig(enabled=False))]


async def test_story_through_long_polling(
    polling_bot: EchoApp,
    sandbox: SandboxClient,
    jpeg: Callable[..., bytes],
) -> None:
    alice = await sandbox.add_user("张三", user_id=1001)
    await alice.send("/start abc123")
    welcome = await alice.expect_message(contains="欢迎")
    assert welcome.text == "欢迎, 张三! 参数: abc123"
    assert [e["type"] for e in welcome.entities] == ["bold", "code"]

    query_id = await alice.press(welcome, "开始 Start")
    answer = await alice.expect_callback_answer(query_id)
    assert answer.text == "收到 begin" and not answer.show_alert
    edited = await alice.expect_edit(welcome, contains="已开始")
    assert edited.buttons == []

    await alice.reply(welcome, "已完成初稿")
    assert (
        await alice.expect_message("echo:")
    ).text == f"echo: 已完成初稿 (回复 #{welcome.message_id})"

    photo = await alice.send_photo(jpeg(), caption="#12")
    got = await alice.expect_message(contains="got")
    assert got.text == f"got {photo.photo[-1]['file_size']} bytes caption=#12"

    await alice.send_document(b"%PDF-1.4", filename="a.pdf", caption="#12")
    assert (await alice.expect_message(contains="got")).text == "got 8 bytes caption=#12"

    album = await alice.send_album([jpeg(), jpeg(color="red")], caption="#13")
    replies = await alice.expect_messages(2, contains="album=")
    group_id = album[0].media_group_id
    assert group_id is not None and all(group_id in r.text for r in replies)


async def test_quiz_through_long_polling(
    polling_bot: EchoApp,
    sandbox: SandboxClient,
) -> None:
    alice = await sandbox.add_user("张三")
    await alice.send("/start")
    welcome = await alice.expect_message(contains="欢迎")
    await alice.press(welcome, callback_data="quiz")
    quiz = await alice.expect_poll()
    assert quiz.poll is not None and quiz.poll["explanation"] == QUIZ_EXPLANATION
    await alice.answer_poll(quiz, [1])
    assert (await alice.expect_message(contains="你选了")).text == "你选了 [1]"


async def test_group_privacy_mode(
    polling_bot: EchoApp,
    sandbox: SandboxClient,
) -> None:
    alice = await sandbox.add_user("张三")
    bob = await sandbox.add_user("李四")
    group = await sandbox.add_group("领导小组", [alice, bob])
    await alice.send("大家好", chat=group)  # not for the bot: privacy mode hides it
    await bob.send("/start@sandbox_inspect_bot", chat=group)
    welcome = await group.expect_message(contains="欢迎, 李四")
    await alice.reply(welcome, "收到")  # replies to the bot are delivered
    assert (await group.expect_message("echo:")).text.startswith("echo: 收到")
    await group.expect_no_message(within=0.3)


async def test_story_through_webhook(sandbox: SandboxClient) -> None:
    assert sandbox.token is not None
    app = build_echo_bot(sandbox.token, sandbox.base_url, sandbox.base_file_url)
    port = free_port()
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            secret_token="s3cret-token",
            webhook_url=f"http://127.0.0.1:{port}/hook",
        )
        try:
            alice = await sandbox.add_user("张三")
            await alice.send("/start web")
            welcome = await alice.expect_message(contains="参数: web")
            await alice.press(welcome, "开始 Start")
            await alice.expect_edit(welcome, contains="已开始")
            info = await app.bot.get_webhook_info()
            assert info.url == f"http://127.0.0.1:{port}/hook" and info.pending_update_count == 0
            assert (await sandbox.stats())["updates_via_webhook"] >= 2
        finally:
            await app.updater.stop()
            await app.stop()


async def test_webhook_retries_until_the_bot_answers_200() -> None:
    received: list[dict[str, object]] = []
    secrets: list[str | None] = []
    answers = iter([500, 500, 200, 200])

    async def hook(request: web.Request) -> web.Response:
        secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        status = next(answers)
        if status == 200:
            received.append(await request.json())
        return web.Response(status=status)

    receiver = web.Application()
    receiver.router.add_post("/hook", hook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with SandboxServer(webhook_retry_delays=(0.05,)) as server:
            client = SandboxClient.for_server(server)
            alice = await client.add_user("张三")
            async with Bot(server.token, base_url=server.base_url) as bot:
                await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="abc")
            await alice.send("一")
            await alice.send("二")
            for _ in range(100):
                if len(received) == 2:
                    break
                await asyncio.sleep(0.02)
            await client.close()
            hook_settings = server.state.updates.webhook
            assert hook_settings is not None
            assert (
                hook_settings.last_error_message
                == "Wrong response from the webhook: 500 Internal Server Error"
            )
    finally:
        await runner.cleanup()
    assert [u["message"]["text"] for u in received] == ["一", "二"]  # type: ignore[index]
    assert secrets == ["abc"] * 4
