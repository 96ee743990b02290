"""Interactive replies are paced per private chat (issue 11, row 3): a busy chat waits for
itself instead of meeting a 429 that would pause every chat."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.delivery.pacing import PRIVATE_BURST, Pacing, replying


async def _send(limiter: Pacing, chat_id: int, endpoint: str = "sendMessage") -> float:
    async def call(*args: Any, **kwargs: Any) -> bool:
        return True

    started = time.monotonic()
    await limiter.process_request(call, (), {}, endpoint, {"chat_id": chat_id}, None)
    return time.monotonic() - started


async def test_a_private_chat_gets_its_burst_then_one_a_second() -> None:
    limiter = Pacing(private_per_second=4.0)  # 4/s keeps the test short
    waits = [await _send(limiter, 42) for _ in range(PRIVATE_BURST + 2)]
    assert max(waits[:PRIVATE_BURST]) < 0.05
    assert sum(waits[PRIVATE_BURST:]) >= 0.35  # two more at 4 a second


async def test_one_busy_chat_does_not_hold_up_another() -> None:
    limiter = Pacing(private_per_second=1.0)
    for _ in range(PRIVATE_BURST):
        await _send(limiter, 42)
    busy = asyncio.create_task(_send(limiter, 42))
    await asyncio.sleep(0.05)
    assert await _send(limiter, 43) < 0.05
    assert not busy.done()
    busy.cancel()


async def test_groups_and_callback_answers_are_not_paced_here() -> None:
    limiter = Pacing(private_per_second=1.0)
    waits = [await _send(limiter, 42, "answerCallbackQuery") for _ in range(6)]
    waits += [await _send(limiter, -100123) for _ in range(6)]
    assert max(waits) < 0.05


# Only what Telegram counts is paced (issue 14): messages, per chat, per group, and the
# overall 30 a second for bulk; a reply or an edit does not queue behind the bulk.


async def _exhaust_overall(limiter: Pacing) -> None:
    """Unprompted sends (outside `replying()`) until the overall bucket is empty."""
    for chat in range(1000, 1003):
        await _send(limiter, chat)


async def test_an_edit_in_a_private_chat_does_not_wait_for_the_overall_bucket() -> None:
    limiter = Pacing(overall_per_second=1.0)
    await _exhaust_overall(limiter)
    waits = [await _send(limiter, 42, "editMessageText") for _ in range(5)]
    waits += [await _send(limiter, 42, "editMessageReplyMarkup") for _ in range(5)]
    assert max(waits) < 0.05


async def test_replies_to_many_people_do_not_wait_for_the_overall_bucket() -> None:
    limiter = Pacing(overall_per_second=2.0)
    started = time.monotonic()
    with replying():
        for chat in range(1, 21):
            await _send(limiter, chat)
    assert time.monotonic() - started < 0.2  # 20 at 2 a second would take about 9 s


async def test_unprompted_sends_keep_the_overall_pace() -> None:
    limiter = Pacing(overall_per_second=4.0)
    started = time.monotonic()
    for chat in range(1, 8):
        await _send(limiter, chat)
    assert time.monotonic() - started >= 0.5  # 7 at 4 a second, the first 4 at once


async def test_a_chat_action_is_not_a_message() -> None:
    limiter = Pacing(private_per_second=1.0)
    waits = [await _send(limiter, 42, "sendChatAction") for _ in range(PRIVATE_BURST + 3)]
    assert max(waits) < 0.05


async def test_a_reply_still_keeps_its_chats_pace() -> None:
    limiter = Pacing(private_per_second=4.0)
    with replying():
        waits = [await _send(limiter, 42) for _ in range(PRIVATE_BURST + 2)]
    assert sum(waits[PRIVATE_BURST:]) >= 0.35
