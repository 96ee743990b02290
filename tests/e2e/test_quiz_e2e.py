"""Quizzes over real HTTP through the sandbox: polls answered right and wrong, a drill
scored with missing points, and FSRS bringing a wrong answer back first (injected clock)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.config import AppConfig
from bot.core.clock import FrozenClock
from db.models import Question, QuizCard, QuizPoll, QuizReview, Role
from sandbox import ChatMessage, SandboxClient
from tests.e2e.conftest import LiveBot, StartBot
from tests.utils import factories as f
from tests.utils.quiz import load_small_bank

ZHANG = 7301


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    """Two questions a session and the small bank instead of the starter bank."""
    quiz = config.quiz.model_copy(update={"session_length": 2, "load_starter_bank": False})
    return config.model_copy(update={"quiz": quiz})


async def _seed(bot: LiveBot) -> None:
    async with bot.services.session() as s:
        await load_small_bank(s)
        edu = await f.unit(s, "县教育局")
        await f.person(s, "张三", unit=edu, telegram_id=ZHANG, role=Role.STAFF)


async def _poll_row(bot: LiveBot, poll_id: str) -> QuizPoll:
    """The bot records a poll right after Telegram returns it: wait for that commit."""
    for _ in range(100):
        async with bot.services.session() as s:
            row = await s.get(QuizPoll, poll_id)
        if row is not None:
            return row
        await asyncio.sleep(0.02)
    raise AssertionError(f"the bot never recorded poll {poll_id}")


async def _positions(bot: LiveBot, poll: ChatMessage) -> tuple[list[int], list[int]]:
    """(right, wrong) option positions of a poll as the person sees it."""
    assert poll.poll is not None
    row = await _poll_row(bot, str(poll.poll["id"]))
    async with bot.services.session() as s:
        question = await s.get(Question, row.question_id)
        assert question is not None
    right = sorted(row.option_order.index(i) for i in question.correct)
    wrong = [i for i in range(len(row.option_order)) if i not in right][:1]
    return right, wrong


async def test_a_quiz_session_with_right_and_wrong_answers(
    live_bot: LiveBot, sandbox: SandboxClient
) -> None:
    await _seed(live_bot)
    zhang = await sandbox.add_user("张三", user_id=ZHANG)
    await zhang.send("/quiz")
    await zhang.expect_message(contains="共 2 题")
    first = await zhang.expect_poll()
    assert first.poll is not None and first.poll["type"] == "quiz"
    assert first.poll["is_anonymous"] is False
    assert first.button_texts == ["⏭ 跳过", "⏹ 结束"]
    right, _ = await _positions(live_bot, first)
    await zhang.answer_poll(first, right)

    second = await zhang.expect_poll()
    assert second.message_id != first.message_id
    _, wrong = await _positions(live_bot, second)
    await zhang.answer_poll(second, wrong)
    summary = await zhang.expect_message(contains="本轮结束")
    assert "答对 1/2 题" in summary.text

    async with live_bot.services.session() as s:
        reviews = (await s.execute(select(QuizReview).order_by(QuizReview.id))).scalars().all()
    assert [r.correct for r in reviews] == [True, False]


async def test_a_drill_is_scored_with_missing_points(
    polling_bot: LiveBot, sandbox: SandboxClient
) -> None:
    await _seed(polling_bot)
    zhang = await sandbox.add_user("张三", user_id=ZHANG)
    await zhang.send("/drill")
    prompt = await zhang.expect_message(contains="检查组问")
    assert "两基" in prompt.text
    await zhang.send("两通过一达标：所有县都通过了审查，由教育部公布；抽查地区的指标全部达标。")
    result = await zhang.expect_message(contains="评分")
    assert "80 分" in result.text
    assert "未答到：自查材料通过国家审查" in result.text
    assert "参考答案" in result.text
    async with polling_bot.services.session() as s:
        review = (await s.execute(select(QuizReview))).scalar_one()
    assert review.score == pytest.approx(0.8)


async def test_fsrs_brings_the_wrong_answer_back_first(
    start_bot: StartBot, sandbox: SandboxClient
) -> None:
    clock = FrozenClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))  # 09:00 in Beijing
    bot = await start_bot(clock=clock)
    await _seed(bot)
    zhang = await sandbox.add_user("张三", user_id=ZHANG)
    await zhang.send("/quiz")
    first = await zhang.expect_poll()
    _, wrong = await _positions(bot, first)
    await zhang.answer_poll(first, wrong)
    second = await zhang.expect_poll()
    right, _ = await _positions(bot, second)
    await zhang.answer_poll(second, right)
    await zhang.expect_message(contains="本轮结束")

    async with bot.services.session() as s:
        polls = {p.message_id: p for p in (await s.execute(select(QuizPoll))).scalars()}
        cards = {c.question_id: c for c in (await s.execute(select(QuizCard))).scalars()}
    missed = polls[first.message_id].question_id
    known = polls[second.message_id].question_id
    assert cards[missed].due < cards[known].due

    # Two minutes later the missed question is due and comes first; the known one is not.
    clock.advance(timedelta(minutes=2))
    await zhang.send("/quiz")
    again = await zhang.expect_poll()
    assert again.poll is not None
    assert (await _poll_row(bot, str(again.poll["id"]))).question_id == missed
