"""The bank, cards and readiness against a real database (SQLite; PostgreSQL in CI)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from fsrs import Rating, Scheduler
from sqlalchemy import func, select

from bot.quiz import bank as quiz_bank
from bot.quiz import readiness
from bot.quiz import session as quiz
from bot.quiz.bank import BankInvalid
from bot.quiz.srs import POLL_KINDS, Srs, pick_next, record_answer
from bot.services import Services
from db.models import Indicator, Question, QuestionKind, QuizCard, SessionKind
from db.repositories import quiz as quiz_repo
from tests.conftest import DEFAULT_NOW
from tests.utils import factories as f
from tests.utils.quiz import SMALL_BANK, load_small_bank

NOW = DEFAULT_NOW


async def test_the_starter_bank_loads_once_with_its_indicators(services: Services) -> None:
    async with services.session() as s:
        result = await quiz_bank.load_starter_if_empty(s)
        assert result is not None and result.questions_created >= 100
        assert result.indicators_created >= 7
        assert await quiz_bank.load_starter_if_empty(s) is None
        archive = (await s.execute(select(Indicator).where(Indicator.code == "DA"))).scalar_one()
        parent = await s.get(Indicator, archive.parent_id)
        assert parent is not None and parent.code == "GZ" and archive.veto


async def test_questions_from_the_countys_figures_do_not_keep_the_starter_bank_out(
    services: Services,
) -> None:
    spec = quiz_bank.QuestionSpec(
        key="data-2025-1", kind=QuestionKind.SINGLE, indicator="SJ", difficulty=1,
        text="我县小学综合差异系数是多少？", options=("0.66", "0.55"), correct=(0,),
        source=f"{quiz_bank.FROM_DATA}2025",
    )
    bank = quiz_bank.Bank((quiz_bank.IndicatorSpec("SJ", "县域数据"),), (spec,))
    async with services.session() as s:
        await quiz_bank.import_bank(s, bank)
    async with services.session() as s:
        result = await quiz_bank.load_starter_if_empty(s)
        assert result is not None and result.questions_created >= 100
        assert await quiz_bank.load_starter_if_empty(s) is None


async def test_a_broken_bank_imports_nothing(services: Services) -> None:
    broken = SMALL_BANK.replace('options: ["≤0.55", "≤0.65", "≤0.75"]', 'options: ["≤0.55"]')
    async with services.session() as s:
        with pytest.raises(BankInvalid) as caught:
            await quiz_bank.import_file(s, "bank.yaml", broken)
    assert [(e.ref, e.message_id) for e in caught.value.errors] == [
        ("s4", "quiz.bank.err.option_count")
    ]
    async with services.session() as s:
        assert await quiz_repo.count_questions(session=s) == 0
        assert (await s.execute(select(func.count(Indicator.id)))).scalar_one() == 0


async def test_reimport_updates_questions_and_keeps_existing_indicators(services: Services) -> None:
    async with services.session() as s:
        await f.indicator(s, "FJ", name="办公室自己命名的否决项")
        first = await load_small_bank(s)
        assert (first.questions_created, first.indicators_created) == (5, 1)
        again = await quiz_bank.import_file(
            s, "bank.yaml", SMALL_BANK.replace("初中校际差异系数的标准是？", "初中差异系数是多少？")
        )
        assert (again.questions_created, again.questions_updated) == (0, 5)
        fj = (await s.execute(select(Indicator).where(Indicator.code == "FJ"))).scalar_one()
        assert fj.name == "办公室自己命名的否决项"
        exported = await quiz_bank.current_bank(s)
    assert any(q.text == "初中差异系数是多少？" for q in exported.questions)
    assert {i.code for i in exported.indicators} == {"FJ", "JH"}


async def test_due_cards_first_then_new_questions(services: Services) -> None:
    srs = Srs(Scheduler(enable_fuzzing=False))
    async with services.session() as s:
        await load_small_bank(s)
        person = await f.person(s, "张三")
        questions = {q.key: q for q in await quiz_repo.all_questions(session=s)}
        # New questions come easiest first.
        first = await pick_next(s, person_id=person.id, now=NOW, kinds=POLL_KINDS)
        assert first is not None and first.difficulty == 1
        # s4 answered wrong an hour ago is due again; s1 answered right is not.
        await record_answer(s, srs, person_id=person.id, question_id=questions["s4"].id,
                            rating=Rating.Again, score=0, kind=SessionKind.QUIZ,
                            now=NOW - timedelta(hours=1))
        await record_answer(s, srs, person_id=person.id, question_id=questions["s1"].id,
                            rating=Rating.Easy, score=1, kind=SessionKind.QUIZ,
                            now=NOW - timedelta(hours=1))
        picked = await pick_next(s, person_id=person.id, now=NOW, kinds=POLL_KINDS)
        assert picked is not None and picked.key == "s4"
        after = await pick_next(s, person_id=person.id, now=NOW, kinds=POLL_KINDS,
                                exclude=[questions["s4"].id])
        assert after is not None and after.key == "s2"
        # Everything seen and nothing due: the soonest card still keeps a session going.
        seen_all = [q.id for q in questions.values() if q.kind.is_poll and q.key not in ("s1",)]
        early = await pick_next(s, person_id=person.id, now=NOW, kinds=POLL_KINDS,
                                exclude=seen_all)
        assert early is not None and early.key == "s1"


async def test_one_card_per_person_and_question(services: Services) -> None:
    srs = Srs()
    async with services.session() as s:
        await load_small_bank(s)
        person = await f.person(s, "张三")
        question = (await quiz_repo.all_questions(session=s))[0]
        for minutes in (0, 10, 2000):
            await record_answer(s, srs, person_id=person.id, question_id=question.id,
                                rating=Rating.Good, score=1, kind=SessionKind.QUIZ,
                                now=NOW + timedelta(minutes=minutes))
        cards = (await s.execute(select(QuizCard))).scalars().all()
    assert len(cards) == 1 and cards[0].reps == 3


async def test_poll_answers_feed_fsrs_and_a_wrong_one_returns_sooner(services: Services) -> None:
    srs = Srs(Scheduler(enable_fuzzing=False))
    rng = random.Random(7)
    async with services.session() as s:
        await load_small_bank(s)
        person = await f.person(s, "张三", telegram_id=4242)
        session = await quiz.start_quiz(s, person_id=person.id, chat_id=4242, indicator=None,
                                        length=2, now=NOW)
        outcomes = []
        for n, poll_id in enumerate(("p1", "p2")):
            plan = await quiz.next_poll(s, session, now=NOW, rng=rng)
            assert plan is not None
            await quiz.poll_sent(s, plan, poll_id=poll_id, person_id=person.id, chat_id=4242,
                                 message_id=10 + n, now=NOW)
            chosen = plan.correct_ids if n == 0 else tuple(
                i for i in range(len(plan.options)) if i not in plan.correct_ids
            )[:1]
            outcome = await quiz.answer_poll(s, srs, poll_id=poll_id, telegram_id=4242,
                                             option_ids=chosen, now=NOW + timedelta(seconds=3))
            assert outcome is not None
            outcomes.append((plan.question_id, outcome.correct))
        assert await quiz.next_poll(s, session, now=NOW, rng=rng) is None
        # Someone else's answer to the poll is ignored.
        assert await quiz.answer_poll(s, srs, poll_id="p1", telegram_id=99, option_ids=(0,),
                                      now=NOW) is None
        cards = {c.question_id: c for c in (await s.execute(select(QuizCard))).scalars()}
    (right_q, right), (wrong_q, wrong) = outcomes
    assert right and not wrong
    assert cards[wrong_q].due < cards[right_q].due


async def test_readiness_per_unit_for_the_leaders_summary(services: Services) -> None:
    srs = Srs(Scheduler(enable_fuzzing=False))
    async with services.session() as s:
        await load_small_bank(s)
        edu = await f.unit(s, "县教育局")
        town = await f.unit(s, "城关镇")
        expert = await f.person(s, "李专家", unit=edu, telegram_id=1)
        await f.person(s, "赵新人", unit=edu, telegram_id=2)
        await f.person(s, "钱镇长", unit=town, telegram_id=3)
        for question in await quiz_repo.all_questions(session=s):
            await record_answer(s, srs, person_id=expert.id, question_id=question.id,
                                rating=Rating.Easy, score=1, kind=SessionKind.QUIZ, now=NOW)
        rows = await readiness.readiness_by_unit(s, now=NOW + timedelta(hours=1),
                                                 zone=services.config.zone, threshold=0.8,
                                                 srs=srs)
        stats = await readiness.person_stats(s, srs, person_id=expert.id,
                                             now=NOW + timedelta(hours=1))
    by_name = {r.name: r for r in rows}
    assert (by_name["县教育局"].ready, by_name["县教育局"].people) == (1, 2)
    assert by_name["县教育局"].share_ready == 0.5
    assert (by_name["城关镇"].ready, by_name["城关镇"].people) == (0, 1)
    assert rows[0].name == "县教育局"
    assert stats.overall > 0.95 and stats.answers == 5 and stats.due == 0


async def test_card_states_come_in_pages_each_card_once(services: Services) -> None:
    """The readiness refresh reads the cards a page at a time (and gives way between
    pages): every card exactly once, in card order, for everyone or for some people."""
    srs = Srs(Scheduler(enable_fuzzing=False))
    async with services.session() as s:
        await load_small_bank(s)
        people = [await f.person(s, telegram_id=10 + i) for i in range(3)]
        questions = await quiz_repo.all_questions(session=s)
        for person in people:
            for question in questions:
                await record_answer(s, srs, person_id=person.id, question_id=question.id,
                                    rating=Rating.Good, score=1, kind=SessionKind.QUIZ, now=NOW)
        every = (await s.execute(select(QuizCard.id, QuizCard.person_id))).all()
        pages = [page async for page in quiz_repo.card_states(session=s, size=4)]
        some = [page async for page in quiz_repo.card_states(
            session=s, person_ids=[people[1].id], size=2)]
        exact = [page async for page in quiz_repo.card_states(session=s, size=len(every))]
    assert len(every) == 3 * len(questions) > 4
    assert [len(p) for p in pages] == [4] * (len(every) // 4) + (
        [len(every) % 4] if len(every) % 4 else [])
    assert [row[0] for page in pages for row in page] == sorted(card for card, _ in every)
    assert sorted(row[0] for page in some for row in page) == sorted(
        card for card, person in every if person == people[1].id)
    assert all(row[1] == people[1].id for page in some for row in page)
    assert [len(p) for p in exact] == [len(every)]  # a full last page, then nothing more


async def test_what_is_derived_from_a_readiness_snapshot_is_made_once_per_snapshot(
    services: Services,
) -> None:
    cache = readiness.ReadinessCache(zone=services.config.zone, threshold=0.8)
    made: list[int] = []

    def make() -> int:
        made.append(len(made))
        return len(made)

    async with services.session() as s:
        await cache.rows(s, NOW)
        first = [cache.derived("a", make), cache.derived("a", make), cache.derived("b", make)]
        await cache.refresh(s, NOW)
        again = cache.derived("a", make)
    assert first == [1, 1, 2] and again == 3  # kept until the snapshot changes
    for i in range(readiness.MAX_DERIVED + 1):  # bounded: full, it starts over
        cache.derived(("scope", i), make)
    assert cache.derived(("scope", 0), make) == len(made) == 3 + readiness.MAX_DERIVED + 2


async def test_questions_of_an_indicator_and_those_below_it(services: Services) -> None:
    async with services.session() as s:
        await quiz_bank.load_starter_if_empty(s)
        scope = await quiz.indicator_scope(s, "gz")
        codes = {
            i.code for i in (await s.execute(select(Indicator).where(Indicator.id.in_(scope or []))))
            .scalars()
        }
        assert codes == {"GZ", "DA", "ZR"}
        assert await quiz.indicator_scope(s, "档案资料") is not None
        person = await f.person(s, "张三")
        picked = await pick_next(s, person_id=person.id, now=NOW, kinds=POLL_KINDS,
                                 indicator_ids=scope)
        assert picked is not None
        question = await s.get(Question, picked.id)
        assert question is not None and question.indicator_id in (scope or [])
