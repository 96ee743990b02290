"""The daily review reminder through the delivery outbox: chosen time, once a day, quiet
hours, and dropped when the person has caught up before it goes out."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from fsrs import Rating
from sqlalchemy import select

from bot.delivery.outbox import Outbox
from bot.quiz import reminders as quiz_reminders
from bot.quiz.srs import Srs, record_answer
from bot.reminders.policy import Policy
from bot.services import Services
from db.models import OutboxMessage, QuizPreference, SessionKind
from db.repositories import quiz as quiz_repo
from tests.utils import factories as f
from tests.utils.quiz import load_small_bank

ZONE = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=ZONE)


def _delivery(services: Services) -> Outbox:
    return services.delivery.outbox


async def _queue(services: Services, at: datetime) -> int:
    async with services.session() as s:
        return await quiz_reminders.queue_reminders(
            s, _delivery(services), now=at, zone=ZONE, default_time=time(19, 30),
            texts=services.texts, policy=Policy.from_config(services.config.reminders),
        )


async def _seed(services: Services) -> tuple[int, int, int]:
    """Three linked people with due cards: default time, 08:00, and 23:00 (quiet hours)."""
    srs = Srs()
    async with services.session() as s:
        await load_small_bank(s)
        question = (await quiz_repo.all_questions(session=s))[0]
        ids = []
        for n, chosen in enumerate((None, time(8, 0), time(23, 0))):
            person = await f.person(s, f"人员{n}", telegram_id=8000 + n)
            await record_answer(s, srs, person_id=person.id, question_id=question.id,
                                rating=Rating.Again, score=0, kind=SessionKind.QUIZ,
                                now=MORNING - timedelta(days=1))
            if chosen is not None:
                pref = await quiz_repo.ensure_preference(session=s, person_id=person.id)
                pref.review_time = chosen
            ids.append(person.id)
        await f.person(s, "没答过题的人", telegram_id=8100)
    return ids[0], ids[1], ids[2]


async def _outbox(services: Services) -> list[OutboxMessage]:
    async with services.session() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def test_each_person_at_their_time_once_a_day(services: Services) -> None:
    default, early, late = await _seed(services)
    assert await _queue(services, MORNING) == 1  # 08:00 has passed
    assert await _queue(services, MORNING + timedelta(minutes=5)) == 0
    assert await _queue(services, MORNING.replace(hour=19, minute=31)) == 1
    assert await _queue(services, MORNING.replace(hour=23, minute=1)) == 1
    rows = await _outbox(services)
    assert [r.person_id for r in rows] == [early, default, late]
    assert rows[0].key == f"quiz.review:{early}:2026-11-23"
    assert "1 道题该复习" in rows[0].text and rows[0].kind == "quiz.review"
    # 23:00 is inside the default quiet hours (22:00–07:30): it waits for the morning.
    assert rows[2].not_before == datetime(2026, 11, 24, 7, 30, tzinfo=ZONE)
    # The next day, again.
    assert await _queue(services, MORNING + timedelta(days=1)) == 1


async def test_no_reminder_without_due_cards_or_when_turned_off(services: Services) -> None:
    default, early, _ = await _seed(services)
    async with services.session() as s:
        pref = await quiz_repo.ensure_preference(session=s, person_id=early)
        pref.reminders_on = False
    assert await _queue(services, MORNING) == 0
    assert await _queue(services, MORNING.replace(hour=20)) == 1
    async with services.session() as s:
        prefs = {p.person_id: p for p in (await s.execute(select(QuizPreference))).scalars()}
    assert prefs[default].last_reminded_on == MORNING.date()


async def test_a_held_back_reminder_is_dropped_once_the_person_caught_up(
    services: Services,
) -> None:
    _, _, late = await _seed(services)
    await _queue(services, MORNING.replace(hour=23, minute=1))
    message = next(r for r in await _outbox(services) if r.person_id == late)
    async with services.session() as s:
        assert await quiz_reminders.still_due(s, message, MORNING.replace(hour=23, minute=2))
        for question in await quiz_repo.all_questions(session=s):
            card = await quiz_repo.get_card(session=s, person_id=late, question_id=question.id)
            if card is not None:
                card.due = MORNING + timedelta(days=3)
    async with services.session() as s:
        assert not await quiz_reminders.still_due(s, message, MORNING.replace(hour=23, minute=2))


def test_times_people_write() -> None:
    assert quiz_reminders.parse_time("20:00") == time(20, 0)
    assert quiz_reminders.parse_time("8:05") == time(8, 5)
    assert quiz_reminders.parse_time("20：15") == time(20, 15)
    assert quiz_reminders.parse_time("24:00") is None
    assert quiz_reminders.parse_time("晚上八点") is None
