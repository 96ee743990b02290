"""Each refusal arrives as the exception PTB raises for Telegram's own answer."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest
from telegram import Bot
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter

from sandbox import RateLimitConfig, SandboxClient

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.sandbox(rate_limits=RateLimitConfig(enabled=False)),
    # PTB warns that RetryAfter.retry_after will become a timedelta
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]


async def test_unknown_chat(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(424242, "hi")


async def test_text_too_long_counts_utf16_after_parsing(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三", started=True)
    await bot.send_message(alice.id, "<b>" + "字" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(alice.id, "😀" * 2049)


async def test_caption_too_long(
    bot: Bot, sandbox: SandboxClient, jpeg: Callable[..., bytes]
) -> None:
    alice = await sandbox.add_user("张三", started=True)
    with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
        await bot.send_photo(alice.id, jpeg(), caption="x" * 1025)


async def test_bad_html(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三", started=True)
    with pytest.raises(
        BadRequest, match=r'^Can\'t parse entities: unsupported start tag "div" at byte offset 0$'
    ):
        await bot.send_message(alice.id, "<div>x</div>", parse_mode="HTML")


async def test_not_modified(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三", started=True)
    sent = await bot.send_message(alice.id, "同样")
    with pytest.raises(
        BadRequest, match=r"^Message is not modified: specified new message content"
    ):
        await bot.edit_message_text("同样", chat_id=alice.id, message_id=sent.message_id)


async def test_blocked_user_gives_403_and_my_chat_member(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三")
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(alice.id, "先打招呼")
    await alice.send("/start")
    await alice.block_bot()
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was blocked by the user$"):
        await bot.send_message(alice.id, "提醒")
    updates = await bot.get_updates()
    blocked = updates[-1].my_chat_member
    assert blocked is not None and blocked.new_chat_member.status == "kicked"
    await alice.unblock_bot()
    await bot.send_message(alice.id, "又能收到了")


@pytest.mark.sandbox(rate_limits=RateLimitConfig(enabled=True))
async def test_flood_control_answers_429_with_retry_after(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三", started=True)
    await bot.send_message(alice.id, "一")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(alice.id, "二")
    assert str(caught.value) == "Flood control exceeded. Retry in 1 seconds"
    assert (await sandbox.stats())["rate_limited"] == 1


async def test_wrong_token_is_401(sandbox: SandboxClient) -> None:
    with pytest.raises(InvalidToken, match="was rejected by the server"):
        async with Bot("123456:WRONG", base_url=sandbox.base_url):
            pass
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sandbox.base_url}123456:WRONG/getMe") as response:
            assert response.status == 401
            assert (await response.json())["description"] == "Unauthorized"


async def test_unknown_method_is_404(sandbox: SandboxClient) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sandbox.base_url}{sandbox.token}/sendTelepathy") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }


async def test_file_too_big_for_get_file(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三")
    doc = await alice.send_document(b"\0" * (20 * 1024 * 1024 + 1), filename="big.zip")
    file_id = doc.document["file_id"] if doc.document else ""
    with pytest.raises(BadRequest, match=r"^File is too big$"):
        await bot.get_file(file_id)


async def test_get_updates_conflicts_with_webhook(bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook")
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()


async def test_reply_to_missing_message_and_unknown_callback(
    bot: Bot, sandbox: SandboxClient
) -> None:
    alice = await sandbox.add_user("张三", started=True)
    with pytest.raises(BadRequest, match=r"^Message to be replied not found$"):
        await bot.send_message(alice.id, "回复", reply_to_message_id=99)
    with pytest.raises(BadRequest, match=r"^Query is too old and response timeout expired"):
        await bot.answer_callback_query("nope")
