"""The test client: expectations, clear failures, groups, blocking, the control API."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from telegram import Bot

from sandbox import RateLimitConfig, SandboxClient, SandboxRequestError, SandboxTimeout

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox(rate_limits=RateLimitConfig(enabled=False))]


async def test_timeouts_list_what_did_arrive(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三", started=True)
    await bot.send_message(alice.id, "第一条")
    with pytest.raises(SandboxTimeout) as caught:
        await alice.expect_message(contains="欢迎", timeout=0.2)
    report = str(caught.value)
    assert "张三's chat with the bot" in report and "'欢迎'" in report
    assert "#1 bot: '第一条'" in report


async def test_each_message_is_handed_out_once(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三", started=True)

    async def later() -> None:
        await asyncio.sleep(0.1)
        for text in ("一", "二", "三"):
            await bot.send_message(alice.id, text)

    task = asyncio.create_task(later())
    assert (await alice.expect_message()).text == "一"
    assert [m.text for m in await alice.expect_messages(2)] == ["二", "三"]
    await task
    await alice.expect_no_message(within=0.1)


async def test_pressing_a_missing_button_names_the_real_ones(
    bot: Bot, sandbox: SandboxClient
) -> None:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    alice = await sandbox.add_user("张三", started=True)
    await bot.send_message(
        alice.id,
        "选",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("好", callback_data="ok")]]),
    )
    msg = await alice.expect_message()
    with pytest.raises(SandboxRequestError, match="the keyboard has '好'"):
        await alice.press(msg, "不好")
    query_id = await alice.press(msg, callback_data="ok")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None and query.id == query_id and query.data == "ok"
    assert query.message is not None and query.message.message_id == msg.message_id
    await query.answer("好的", show_alert=True)
    answer = await alice.expect_callback_answer(query_id)
    assert answer.text == "好的" and answer.show_alert


async def test_commands_carry_utf16_entities_and_edits_reach_the_bot(
    bot: Bot, sandbox: SandboxClient
) -> None:
    alice = await sandbox.add_user("张三")
    sent = await alice.send("😀你好 /report@sandbox_inspect_bot 本周")
    await alice.edit(sent, "改过了 /help")
    first, second = await bot.get_updates()
    assert first.message is not None
    assert first.message.parse_entities() == {
        first.message.entities[0]: "/report@sandbox_inspect_bot"
    }
    assert first.message.entities[0].offset == 5
    assert second.edited_message is not None and second.edited_message.text == "改过了 /help"


async def test_albums_share_a_media_group(
    bot: Bot, sandbox: SandboxClient, jpeg: Callable[..., bytes]
) -> None:
    alice = await sandbox.add_user("张三")
    sent = await alice.send_album([jpeg(), ("清单.xlsx", b"PK\x03\x04")], caption="#12")
    assert sent[0].media_group_id and sent[0].media_group_id == sent[1].media_group_id
    updates = await bot.get_updates()
    messages = [u.message for u in updates if u.message]
    assert messages[0].caption == "#12" and messages[1].caption is None
    assert messages[1].document is not None and messages[1].document.file_name == "清单.xlsx"
    assert messages[0].photo[-1].file_unique_id != messages[0].photo[0].file_unique_id


async def test_groups_have_negative_ids_and_member_checks(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三")
    outsider = await sandbox.add_user("路人")
    group = await sandbox.add_group("领导小组", [alice])
    assert group.id < 0
    with pytest.raises(SandboxRequestError, match="not a member"):
        await outsider.send("/start", chat=group)
    await bot.send_message(group.id, "群通知")
    assert (await group.expect_message()).text == "群通知"
    member = await bot.get_chat_member(group.id, alice.id)
    assert member.status == "member"


async def test_stats_and_websocket_events(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.add_user("张三", started=True)
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{sandbox.url}/sandbox/ws") as ws:
        await bot.send_message(alice.id, "实时")
        event = await asyncio.wait_for(ws.receive_json(), 2)
        assert event["event"] == "message" and event["message"]["message"]["text"] == "实时"
    stats = await sandbox.stats()
    assert stats["messages_delivered"] == 1 and stats["requests"]["sendMessage"] == 1
    assert (await sandbox.reset_stats())["messages_delivered"] == 0


async def test_command_line_server_loads_people(tmp_path: Path) -> None:
    people = {
        "users": [{"id": 1001, "first_name": "张三", "role": "责任人", "started": True}],
        "groups": [{"title": "领导小组", "members": [1001]}],
    }
    users_file = tmp_path / "users.json"
    users_file.write_text(json.dumps(people, ensure_ascii=False), encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        "--port",
        "0",
        "--users",
        str(users_file),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        assert line.startswith("web chat:")
        url = line.split()[-1].rstrip("/")
        client = SandboxClient(url)
        users = await client.users()
        assert [(u["id"], u["role"]) for u in users] == [(1001, "责任人")]
        assert len(await client.chats()) == 2
        await client.close()
    finally:
        process.terminate()
        await process.wait()
