"""/quiz, /drill, /ask, /stats, /rank and /reviewtime: real updates through the Application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from telegram import Chat, User

from bot.app import build_application
from bot.config import AppConfig
from bot.core.clock import FrozenClock
from bot.services import Services
from db.models import QuizCard, QuizPoll, QuizPreference, QuizReview, QuizSession, Role
from tests.conftest import BotHarness
from tests.utils import factories as f
from tests.utils.quiz import PollRequest, correct_ids, load_small_bank, poll_answer, wrong_ids
from tests.utils.telegram import UpdateFactory

ZHANG = 6660001
LEADER = 6660002


@pytest.fixture
async def quiz_harness(config: AppConfig, services: Services) -> AsyncIterator[BotHarness]:
    request = PollRequest()
    app = build_application(config, services=services, request=request, updater=False)
    async with app:
        request.clear()
        yield BotHarness(app, request, UpdateFactory(app.bot), services)


async def _seed(h: BotHarness) -> int:
    async with h.services.session() as s:
        await load_small_bank(s)
        edu = await f.unit(s, "县教育局")
        zhang = await f.person(s, "张三", unit=edu, telegram_id=ZHANG, role=Role.STAFF)
        await f.person(s, "王组长", telegram_id=LEADER, role=Role.LEADER)
        return zhang.id


def _request(h: BotHarness) -> PollRequest:
    assert isinstance(h.request, PollRequest)
    return h.request


async def test_a_quiz_session_right_and_wrong_answers(quiz_harness: BotHarness) -> None:
    h = quiz_harness
    person_id = await _seed(h)
    user = h.updates.user(ZHANG)
    clock = h.services.clock
    assert isinstance(clock, FrozenClock)
    await h.process(h.updates.text(user, "/quiz"))
    assert "共 10 题" in h.request.sent("sendMessage")[-1].text
    first = _request(h).polls()[-1]
    assert first.params["type"] == "quiz" and first.params["is_anonymous"] is False
    assert first.params["explanation"]
    assert [label for label, _ in first.buttons()] == ["⏭ 跳过", "⏹ 结束"]
    assert str(first.params["question"]).startswith("(1/10) ")

    clock.advance(timedelta(seconds=4))
    await h.process(poll_answer(user, _request(h).poll_id(), correct_ids(first)))
    second = _request(h).polls()[-1]
    assert second is not first and str(second.params["question"]).startswith("(2/10) ")
    clock.advance(timedelta(seconds=4))
    await h.process(poll_answer(user, _request(h).poll_id(), wrong_ids(second)))
    assert len(_request(h).polls()) == 3
    # The same answer again (Telegram retrying an update) changes nothing.
    await h.process(poll_answer(user, _request(h).poll_id(1), wrong_ids(second)))
    assert len(_request(h).polls()) == 3

    async with h.services.session() as s:
        reviews = (await s.execute(select(QuizReview).order_by(QuizReview.id))).scalars().all()
        cards = (await s.execute(select(QuizCard))).scalars().all()
    assert [r.correct for r in reviews] == [True, False]
    assert [r.person_id for r in reviews] == [person_id, person_id]
    assert len(cards) == 2
    wrong_card = next(c for c in cards if c.question_id == reviews[1].question_id)
    right_card = next(c for c in cards if c.question_id == reviews[0].question_id)
    assert wrong_card.due < right_card.due


async def test_the_session_ends_with_a_summary(quiz_harness: BotHarness) -> None:
    h = quiz_harness
    await _seed(h)
    user = h.updates.user(ZHANG)
    # Only the four poll questions exist: the session ends after them.
    await h.process(h.updates.text(user, "/quiz"))
    for n in range(4):
        call = _request(h).polls()[-1]
        ids = correct_ids(call) if n != 2 else wrong_ids(call)
        await h.process(poll_answer(user, _request(h).poll_id(), ids))
    assert len(_request(h).polls()) == 4
    assert "本轮结束：答对 3/4 题" in h.request.last_text()
    # Multiple choice is sent as a multiple-answer quiz with every correct option.
    multiple = next(c for c in _request(h).polls() if "一票否决情形" in str(c.params["question"]))
    assert multiple.params["allows_multiple_answers"] is True
    assert len(correct_ids(multiple)) == 2


async def test_a_second_stop_says_the_quiz_has_ended(quiz_harness: BotHarness) -> None:
    """Issue 13: a second press of ⏹ sent the summary again."""
    h = quiz_harness
    await _seed(h)
    user = h.updates.user(ZHANG)
    await h.process(h.updates.text(user, "/quiz"))
    stop_data = _request(h).polls()[-1].buttons()[1][1]
    await h.process(h.updates.callback(user, stop_data))
    assert "已结束答题" in h.request.last_text()
    h.request.clear()
    await h.process(h.updates.callback(user, stop_data))
    answers = h.request.sent("answerCallbackQuery")
    assert [a.params.get("text") for a in answers] == ["这一轮答题已经结束了。"]
    assert not answers[0].params.get("show_alert")  # a passing note, nothing is wrong
    assert h.request.sent("sendMessage") == []


async def test_the_summary_counts_skipped_questions_apart(quiz_harness: BotHarness) -> None:
    """Issue 13: the end of a quiz counted skipped questions as asked ("答对 3/4 题" after
    three right answers and a skip)."""
    h = quiz_harness
    await _seed(h)
    user = h.updates.user(ZHANG)
    await h.process(h.updates.text(user, "/quiz"))
    for n in range(4):
        call = _request(h).polls()[-1]
        if n == 1:
            await h.process(h.updates.callback(user, call.buttons()[0][1]))
        else:
            await h.process(poll_answer(user, _request(h).poll_id(), correct_ids(call)))
    assert "本轮结束：答对 3/3 题，跳过 1 题。" in h.request.last_text()
    english = await _english(h)
    await h.process(h.updates.text(english, "/quiz"))
    call = _request(h).polls()[-1]
    await h.process(h.updates.callback(english, call.buttons()[0][1]))
    await h.process(h.updates.callback(english, _request(h).polls()[-1].buttons()[1][1]))
    assert "Quiz stopped: 0/0 correct, 1 skipped." in h.request.last_text()


async def _english(h: BotHarness) -> User:
    async with h.services.session() as s:
        await f.person(s, "Li Si", telegram_id=ZHANG + 10, role=Role.STAFF, language="en")
    return h.updates.user(ZHANG + 10)


async def test_an_answer_after_a_restart_is_scored(
    quiz_harness: BotHarness, config: AppConfig, clock: FrozenClock
) -> None:
    h = quiz_harness
    await _seed(h)
    user = h.updates.user(ZHANG)
    await h.process(h.updates.text(user, "/quiz JH"))
    first = _request(h).polls()[-1]
    poll_id = _request(h).poll_id()
    assert "均衡发展认定" in h.request.sent("sendMessage")[-1].text

    from bot.services import build_services

    fresh = build_services(config, clock=clock)
    request = PollRequest()
    app = build_application(config, services=fresh, request=request, updater=False)
    async with app:
        await app.process_update(poll_answer(user, poll_id, correct_ids(first)))
    await fresh.db.dispose()
    assert len(request.sent("sendPoll")) == 1  # the next JH question, from the new process
    async with h.services.session() as s:
        poll = await s.get(QuizPoll, poll_id)
        assert poll is not None and poll.correct is True


async def test_skip_and_stop(quiz_harness: BotHarness) -> None:
    h = quiz_harness
    await _seed(h)
    user = h.updates.user(ZHANG)
    await h.process(h.updates.text(user, "/quiz"))
    skip_data = _request(h).polls()[-1].buttons()[0][1]
    await h.process(h.updates.callback(user, skip_data))
    assert h.request.sent("answerCallbackQuery")[-1].params.get("text") == "已跳过，这道题会很快再出现。"
    assert len(_request(h).polls()) == 2
    # Pressing skip on the old poll again does nothing.
    await h.process(h.updates.callback(user, skip_data))
    assert len(_request(h).polls()) == 2
    stop_data = _request(h).polls()[-1].buttons()[1][1]
    await h.process(h.updates.callback(user, stop_data))
    # The skipped question was not answered (issue 13): it is counted on its own.
    assert "已结束答题：答对 0/0 题，跳过 1 题。" in h.request.last_text()
    async with h.services.session() as s:
        review = (await s.execute(select(QuizReview))).scalar_one()
        session = (await s.execute(select(QuizSession))).scalar_one()
    assert review.correct is False and review.rating == 1  # skipped = forgotten
    assert session.ended_at is not None


async def test_quiz_refuses_groups_and_unknown_indicators(quiz_harness: BotHarness) -> None:
    h = quiz_harness
    await _seed(h)
    user = h.updates.user(ZHANG)
    group = Chat(-100123, Chat.SUPERGROUP, title="迎检群")
    await h.process(h.updates.text(user, "/quiz", chat=group))
    assert "私聊" in h.request.last_text()
    await h.process(h.updates.text(user, "/quiz 不存在的指标"))
    assert "没有找到指标「不存在的指标」" in h.request.last_text()
    assert _request(h).polls() == []


async def test_a_drill_is_scored_and_survives_a_restart(
    quiz_harness: BotHarness, config: AppConfig, clock: FrozenClock
) -> None:
    h = quiz_harness
    await _seed(h)
    user = h.updates.user(ZHANG)
    await h.process(h.updates.text(user, "/drill"))
    prompt = h.request.last_text()
    assert "检查组问" in prompt and "两基" in prompt

    from bot.services import build_services

    fresh = build_services(config, clock=clock)
    request = PollRequest()
    app = build_application(config, services=fresh, request=request, updater=False)
    async with app:
        answer = "要做到两通过一达标：全省所有县都通过了审查，名单由教育部公布；被抽查的地区指标全部达标。"
        await app.process_update(UpdateFactory(app.bot).text(user, answer))
    await fresh.db.dispose()
    result = request.last_text()
    assert "评分：80 分" in result
    assert "❌ 未答到：自查材料通过国家审查" in result
    assert "📖 参考答案" in result
    async with h.services.session() as s:
        review = (await s.execute(select(QuizReview))).scalar_one()
    assert review.score == pytest.approx(0.8) and review.kind.value == "drill"
    # The drill is answered: the next free text is nobody's business here.
    h.request.clear()
    await h.process(h.updates.text(user, "再说一句"))
    assert h.request.calls == []


async def test_a_drill_answer_after_the_timeout_is_not_scored(quiz_harness: BotHarness) -> None:
    h = quiz_harness
    await _seed(h)
    user = h.updates.user(ZHANG)
    await h.process(h.updates.text(user, "/drill"))
    h.services.clock.advance(timedelta(minutes=31))  # type: ignore[attr-defined]
    h.request.clear()
    await h.process(h.updates.text(user, "两通过一达标"))
    assert h.request.calls == []


async def test_ask_stats_rank_and_reviewtime(quiz_harness: BotHarness) -> None:
    h = quiz_harness
    await _seed(h)
    user = h.updates.user(ZHANG)
    await h.process(h.updates.text(user, "/ask 差异系数"))
    assert "🔎" in h.request.last_text() and "0.55" in h.request.last_text()
    await h.process(h.updates.text(user, "/ask"))
    assert "用法" in h.request.last_text()

    await h.process(h.updates.text(user, "/stats"))
    assert "还没有答过题" in h.request.last_text()
    await h.process(h.updates.text(user, "/quiz"))
    await h.process(poll_answer(user, _request(h).poll_id(), correct_ids(_request(h).polls()[-1])))
    await h.process(h.updates.text(user, "/stats"))
    stats = h.request.last_text()
    assert "已答 1 次，答对 1 次" in stats and "FJ 一票否决" in stats and "JH" in stats

    await h.process(h.updates.text(user, "/rank"))
    assert "没有执行此操作的权限" in h.request.last_text()
    leader = h.updates.user(LEADER)
    await h.process(h.updates.text(leader, "/rank"))
    ranking = h.request.last_text()
    assert "本周答题排名" in ranking and "张三（县教育局）：1.0 分，答对 1/1" in ranking
    await h.process(h.updates.text(leader, "/rank all"))
    assert "达标线 80%" in h.request.last_text()

    await h.process(h.updates.text(user, "/reviewtime"))
    assert "19:30" in h.request.last_text()
    await h.process(h.updates.text(user, "/reviewtime 20：15"))
    assert "20:15" in h.request.last_text()
    await h.process(h.updates.text(user, "/reviewtime 25:00"))
    assert "格式不对" in h.request.last_text()
    await h.process(h.updates.text(user, "/reviewtime off"))
    async with h.services.session() as s:
        pref = (await s.execute(select(QuizPreference))).scalar_one()
        assert pref.reminders_on is False and pref.review_time is not None
        assert (await s.execute(select(func.count(QuizReview.id)))).scalar_one() == 1
