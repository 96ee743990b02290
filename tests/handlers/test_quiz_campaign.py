"""/quiz and /drill follow the campaign's indicators: the sample campaign on the starter bank."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_application
from bot.config import AppConfig
from bot.quiz import bank as quiz_bank
from bot.services import Services
from bot.tables.setup import apply_setup, load_setup
from db.models import Role
from tests.conftest import BotHarness
from tests.utils import factories as f
from tests.utils.quiz import PollRequest, correct_ids, poll_answer
from tests.utils.telegram import UpdateFactory

CAMPAIGN = Path(__file__).resolve().parents[2] / "examples" / "campaign.toml"
WANG = 6670001


@pytest.fixture
async def harness(config: AppConfig, services: Services) -> AsyncIterator[BotHarness]:
    request = PollRequest()
    app = build_application(config, services=services, request=request, updater=False)
    async with app:
        request.clear()
        harness = BotHarness(app, request, UpdateFactory(app.bot), services)
        async with services.session() as s:
            await quiz_bank.load_starter_if_empty(s)
            await apply_setup(s, load_setup(CAMPAIGN), str(CAMPAIGN))
            school = await f.unit(s, "城关小学（测试）")
            await f.person(s, "王老师", unit=school, telegram_id=WANG, role=Role.STAFF)
        yield harness


def _polls(h: BotHarness) -> list[str]:
    assert isinstance(h.request, PollRequest)
    return [f"{p.params['question']} {p.params.get('explanation') or ''}"
            for p in h.request.polls()]


async def test_quiz_c1_asks_about_the_primary_difference_coefficient(harness: BotHarness) -> None:
    h = harness
    user = h.updates.user(WANG)
    await h.process(h.updates.text(user, "/quiz C1"))
    assert "小学综合差异系数不高于0.65" in h.request.sent("sendMessage")[-1].text
    request = h.request
    assert isinstance(request, PollRequest)
    while True:  # answer every poll of the session
        count = len(request.polls())
        await h.process(poll_answer(user, request.poll_id(), correct_ids(request.polls()[-1])))
        if len(request.polls()) == count:
            break
    asked = _polls(h)
    assert len(asked) >= 2
    assert all("差异系数" in text for text in asked), asked


async def test_a_parent_indicator_asks_its_children_topics(harness: BotHarness) -> None:
    h = harness
    await h.process(h.updates.text(h.updates.user(WANG), "/quiz E"))
    assert "普及程度" in _polls(h)[-1]


async def test_an_indicator_without_questions_says_so(harness: BotHarness) -> None:
    h = harness
    await h.process(h.updates.text(h.updates.user(WANG), "/quiz B5"))
    assert "没有关于「B5」的题目" in h.request.sent("sendMessage")[-1].text
    assert _polls(h) == []


async def test_drill_c1_and_the_whole_bank(harness: BotHarness) -> None:
    h = harness
    user = h.updates.user(WANG)
    await h.process(h.updates.text(user, "/drill C1"))
    # The open question on the coefficients: 基本均衡认定看哪几项内容？各自的标准是多少？
    assert "基本均衡认定看哪几项内容" in h.request.sent("sendMessage")[-1].text
    # A plain /quiz still asks from the whole bank, the bank's own topics included.
    await h.process(h.updates.text(user, "/quiz"))
    assert _polls(h)
    await h.process(h.updates.text(user, "/quiz JH"))
    assert "共" in h.request.sent("sendMessage")[-1].text
