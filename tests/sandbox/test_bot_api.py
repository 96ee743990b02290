"""python-telegram-bot 22.8's own Bot against the sandbox: every object must parse."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import aiohttp
import pytest
from PIL import Image
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    MenuButtonCommands,
    Poll,
    ReplyParameters,
)
from telegram.constants import ParseMode

from sandbox import RateLimitConfig, SandboxClient

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox(rate_limits=RateLimitConfig(enabled=False))]

KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("开始 Start", callback_data="task:start:1")],
        [InlineKeyboardButton("说明", url="https://example.org")],
    ]
)


async def test_get_me_describes_the_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "sandbox_inspect_bot"
    assert me.can_read_all_group_messages is False


async def test_send_message_with_html_keyboard_and_reply(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三", user_id=1001)
    hello = await alice.send("你好 /start")
    sent = await bot.send_message(
        alice.id,
        "<b>欢迎</b> 😀 <i>张三</i>",
        parse_mode=ParseMode.HTML,
        reply_markup=KEYBOARD,
        reply_parameters=ReplyParameters(hello.message_id),
    )
    assert sent.text == "欢迎 😀 张三"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 2),
        ("italic", 6, 2),
    ]
    assert sent.reply_to_message is not None and sent.reply_to_message.text == "你好 /start"
    assert sent.reply_markup == KEYBOARD
    assert sent.chat.type == "private" and sent.from_user is not None and sent.from_user.is_bot
    assert abs(sent.date.timestamp() - hello.message["date"]) < 5

    seen = await alice.expect_message(contains="欢迎")
    assert seen.button_texts == ["开始 Start", "说明"]
    assert seen.reply_to_message_id == hello.message_id


async def test_edit_and_delete(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三", started=True)
    sent = await bot.send_message(alice.id, "初稿", reply_markup=KEYBOARD)
    seen = await alice.expect_message("初稿")

    edited = await bot.edit_message_text("定稿", chat_id=alice.id, message_id=sent.message_id)
    assert isinstance(edited, type(sent)) and edited.edit_date is not None
    now = await alice.expect_edit(seen, contains="定稿")
    assert now.buttons == []  # leaving reply_markup out drops the keyboard

    await bot.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=KEYBOARD)
    assert (await alice.expect_edit(now)).button_texts == ["开始 Start", "说明"]

    assert await bot.delete_message(alice.id, sent.message_id)
    await alice.expect_deleted(seen)
    assert await alice.messages() == []


async def test_photo_sizes_reuse_and_download(
    bot: Bot, sandbox: SandboxClient, jpeg: Callable[..., bytes]
) -> None:
    alice = await sandbox.add_user("张三", started=True)
    sent = await bot.send_photo(
        alice.id, jpeg(2000, 1000), caption="<b>#12</b> 现场", parse_mode="HTML"
    )
    sizes = [(p.width, p.height) for p in sent.photo]
    assert sizes == [(90, 45), (320, 160), (800, 400), (1280, 640)]
    assert sent.caption == "#12 现场" and sent.caption_entities[0].type == "bold"

    again = await bot.send_photo(alice.id, sent.photo[-1].file_id)
    assert again.photo == sent.photo

    file = await bot.get_file(sent.photo[-1].file_id)
    assert file.file_size == sent.photo[-1].file_size and file.file_path
    data = await file.download_as_bytearray()
    with Image.open(io.BytesIO(bytes(data))) as image:
        assert image.size == (1280, 640)
        assert not image.getexif()  # Telegram recompresses photos without EXIF


async def test_document_and_media_group(
    bot: Bot, sandbox: SandboxClient, jpeg: Callable[..., bytes]
) -> None:
    alice = await sandbox.add_user("张三", started=True)
    doc = await bot.send_document(alice.id, b"%PDF-1.4 report", filename="报告.pdf", caption="#3")
    assert doc.document is not None
    assert doc.document.file_name == "报告.pdf" and doc.document.mime_type == "application/pdf"
    again = await bot.send_document(alice.id, doc.document.file_id)
    assert again.document == doc.document

    album = await bot.send_media_group(
        alice.id, [InputMediaPhoto(jpeg(), caption="第一张"), InputMediaPhoto(jpeg(color="red"))]
    )
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    assert album[0].caption == "第一张"
    docs = await bot.send_media_group(
        alice.id,
        [InputMediaDocument(b"a", filename="a.txt"), InputMediaDocument(b"b", filename="b.txt")],
    )
    assert [m.document.file_name for m in docs if m.document] == ["a.txt", "b.txt"]
    assert len(await alice.expect_messages(6)) == 6


async def test_quiz_poll_votes_and_stop(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三", started=True)
    sent = await bot.send_poll(
        alice.id,
        "迎检材料几份?",
        ["一份", "两份", "三份"],
        type=Poll.QUIZ,
        correct_option_ids=[1],
        is_anonymous=False,
        explanation="<b>两份</b>: 正本和副本",
        explanation_parse_mode="HTML",
    )
    poll = sent.poll
    assert poll is not None and poll.type == "quiz" and poll.correct_option_ids == (1,)
    assert poll.allows_revoting is False and poll.members_only is False
    assert all(option.persistent_id for option in poll.options)
    assert poll.explanation == "两份: 正本和副本"

    seen = await alice.expect_poll()
    await alice.answer_poll(seen, [0])
    updates = await bot.get_updates(timeout=1)
    answer = next(u.poll_answer for u in updates if u.poll_answer)
    assert answer.option_ids == (0,) and answer.user is not None and answer.user.id == alice.id
    assert answer.option_persistent_ids == (poll.options[0].persistent_id,)
    counted = [u.poll for u in updates if u.poll][-1]
    assert counted.total_voter_count == 1 and counted.options[0].voter_count == 1

    stopped = await bot.stop_poll(alice.id, sent.message_id)
    assert stopped.is_closed
    with pytest.raises(AssertionError, match="poll is closed"):
        await alice.answer_poll(seen, [1])


async def test_regular_anonymous_poll_reports_counts_only(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三", started=True)
    bob = await sandbox.add_user("李四", started=True)
    group = await sandbox.add_group("领导小组", [alice, bob])
    joined = await bot.get_updates()
    assert joined[-1].my_chat_member is not None
    await bot.get_updates(offset=joined[-1].update_id + 1)
    sent = await bot.send_poll(group.id, "周会时间", ["周一", "周三"], allows_multiple_answers=True)
    assert sent.poll is not None and sent.poll.is_anonymous and sent.poll.allows_revoting
    seen = await group.expect_poll()
    await alice.answer_poll(seen, [0, 1])
    await bob.answer_poll(seen, [1])
    updates = await bot.get_updates(timeout=1)
    assert updates and not any(u.poll_answer for u in updates)
    assert updates[-1].poll is not None
    assert [o.voter_count for o in updates[-1].poll.options] == [1, 2]


async def test_commands_by_scope_and_language(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三", started=True)
    await bot.set_my_commands([BotCommand("start", "开始")])
    await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
    await bot.set_my_commands([BotCommand("report", "汇总")], scope=BotCommandScopeAllGroupChats())
    await bot.set_my_commands([BotCommand("admin", "管理")], scope=BotCommandScopeChat(alice.id))

    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert (await bot.get_my_commands(language_code="en"))[0].description == "Start"
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeAllGroupChats())] == [
        "report"
    ]
    menu = await sandbox.request("GET", f"/chats/{alice.id}/commands")
    assert [c["command"] for c in menu] == ["admin"]

    assert await bot.delete_my_commands(scope=BotCommandScopeChat(alice.id))
    assert await bot.get_my_commands(scope=BotCommandScopeChat(alice.id)) == ()


async def test_profile_settings_chat_info_and_actions(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三", username="zhangsan", started=True)
    assert await bot.set_my_description("迎检协同")
    assert (await bot.get_my_description()).description == "迎检协同"
    assert await bot.set_my_short_description("迎检")
    assert (await bot.get_my_short_description()).short_description == "迎检"
    assert await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    assert isinstance(await bot.get_chat_menu_button(), MenuButtonCommands)
    chat = await bot.get_chat(alice.id)
    assert chat.username == "zhangsan" and chat.type == "private"
    assert await bot.send_chat_action(alice.id, "typing")


async def test_json_and_form_bodies_and_case_insensitive_names(sandbox: SandboxClient) -> None:
    await sandbox.add_user("张三", user_id=1001, started=True)
    url = f"{sandbox.base_url}{sandbox.token}"
    markup = {"inline_keyboard": [[{"text": "好", "callback_data": "ok"}]]}
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{url}/sendMessage", json={"chat_id": 1001, "text": "json", "reply_markup": markup}
        ) as r:
            body = await r.json()
            assert body["ok"] and body["result"]["reply_markup"] == markup
        form = {"chat_id": "1001", "text": "form", "reply_markup": json.dumps(markup)}
        async with http.post(f"{url}/SENDMESSAGE", data=form) as r:
            assert (await r.json())["result"]["text"] == "form"
        async with http.get(f"{url}/getMe") as r:
            assert (await r.json())["result"]["is_bot"] is True


async def test_webhook_info_round_trip(bot: Bot) -> None:
    assert await bot.set_webhook(
        "http://127.0.0.1:9/hook", secret_token="s3cret", allowed_updates=["message"]
    )
    info = await bot.get_webhook_info()
    assert info.url == "http://127.0.0.1:9/hook" and info.allowed_updates == ("message",)
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
