"""Quiz readiness in /summary: real updates through the real Application."""

from __future__ import annotations

from fsrs import Rating
from sqlalchemy import select, update

from bot.quiz.srs import Srs, record_answer
from db.models import Campaign, OutboxMessage, Person, Question, SessionKind
from tests.conftest import BotHarness
from tests.db.test_reports_aggregation import World, seed
from tests.utils.quiz import load_small_bank

LEADER, ADMIN, ZHANG, WANG, ZHAO = 6200001, 6200002, 6200003, 6200004, 6200005
HEADER = "应知应会掌握情况"


async def _world(h: BotHarness) -> World:
    """The reports world with five people linked; 张三 and 赵六 master the whole bank."""
    w = await seed(h.services)
    async with h.services.session() as s:
        for name, telegram_id in (("李组长", LEADER), ("办公室", ADMIN), ("张三", ZHANG),
                                  ("王镇长", WANG), ("赵六", ZHAO)):
            await s.execute(update(Person).where(Person.name == name)
                            .values(telegram_id=telegram_id))
        await load_small_bank(s)
    return w


async def _master_the_bank(h: BotHarness, *person_ids: int) -> None:
    srs, now = Srs(), h.services.clock.now()
    async with h.services.session() as s:
        for question_id in (await s.execute(select(Question.id))).scalars().all():
            for person_id in person_ids:
                await record_answer(s, srs, person_id=person_id, question_id=question_id,
                                    rating=Rating.Easy, score=1.0, kind=SessionKind.QUIZ,
                                    now=now)


async def _summary(h: BotHarness, telegram_id: int) -> str:
    await h.process(h.updates.text(h.updates.user(telegram_id), "/summary"))
    return h.request.last_text()


async def test_leaders_see_the_share_ready_and_the_weakest_units_first(
    harness: BotHarness,
) -> None:
    w = await _world(harness)
    assert HEADER not in await _summary(harness, LEADER)  # nobody has answered yet

    await _master_the_bank(harness, w.people["张三"], w.people["赵六"])
    text = await _summary(harness, LEADER)
    section = text[text.index(HEADER):]
    # Five linked people (two leaders without a unit among them), two of them ready.
    assert "达标 <b>40%</b>（2/5 人，掌握度 ≥ 80%）" in section
    assert "列出 3 个，共 3 个单位" in section
    assert section.index("城关镇：0/1（0%）") < section.index("实验小学：1/1（100%）") \
        < section.index("教育局：1/1（100%）")
    assert text.index("各阶段") < text.index(HEADER)
    assert "2/5 人" in await _summary(harness, ADMIN)


async def test_a_unit_leader_sees_their_units_and_a_responsible_person_nothing(
    harness: BotHarness,
) -> None:
    w = await _world(harness)
    await _master_the_bank(harness, w.people["张三"], w.people["赵六"])

    text = await _summary(harness, WANG)
    section = text[text.index(HEADER):]
    assert "达标 <b>50%</b>（1/2 人" in section
    assert "城关镇：0/1（0%）" in section and "实验小学：1/1（100%）" in section
    assert "教育局" not in section

    assert HEADER not in await _summary(harness, ZHANG)


async def test_the_bulletin_carries_one_readiness_line(harness: BotHarness) -> None:
    w = await _world(harness)
    admin = harness.updates.user(ADMIN)
    await harness.process(harness.updates.text(admin, "/bulletin"))
    assert "应知应会" not in harness.request.last_text()

    await _master_the_bank(harness, w.people["张三"], w.people["赵六"])
    await harness.process(harness.updates.text(admin, "/bulletin"))
    preview = harness.request.last_text()
    line = "应知应会达标 <b>40%</b>（2/5 人），达标率最低：城关镇 0%、实验小学 100%、教育局 100%"
    assert line in preview
    assert preview.index("按时完成率") < preview.index(line) < preview.index("三、各单位按时完成情况")

    # What goes to the leaders' chat is built the same way.
    async with harness.services.session() as s:
        await s.execute(update(Campaign).values(leaders_chat_id=-1002000))
    await harness.process(harness.updates.callback(admin, f"rep:bsend:{w.campaign.id}"))
    async with harness.services.session() as s:
        queued = (await s.execute(select(OutboxMessage.text).where(
            OutboxMessage.document_path.is_(None)))).scalars().all()
    assert len(queued) == 1 and line in queued[0]
