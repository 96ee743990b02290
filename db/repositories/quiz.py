"""Quiz queries: the bank, cards (due first), reviews, sessions and polls in flight."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Row,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import (
    Person,
    Question,
    QuestionKind,
    QuizCard,
    QuizPoll,
    QuizPreference,
    QuizReview,
    QuizSession,
)


# The bank ---------------------------------------------------------------------------------
async def all_questions(*, session: AsyncSession) -> Sequence[Question]:
    return (await session.execute(select(Question).order_by(Question.key))).scalars().all()


async def count_questions(*, session: AsyncSession, except_source: str | None = None) -> int:
    """How many questions; `except_source` leaves out those whose source starts with it."""
    stmt = select(func.count(Question.id))
    if except_source is not None:
        stmt = stmt.where(~Question.source.startswith(except_source, autoescape=True))
    return int((await session.execute(stmt)).scalar_one())


async def get_question(*, session: AsyncSession, question_id: int) -> Question | None:
    return await session.get(Question, question_id)


async def question_counts_by_indicator(*, session: AsyncSession) -> dict[int, int]:
    stmt = select(Question.indicator_id, func.count(Question.id)).group_by(Question.indicator_id)
    return {row[0]: int(row[1]) for row in (await session.execute(stmt)).all()}


# Picking the next question ----------------------------------------------------------------
def _question_filter(
    question: Any, kinds: frozenset[QuestionKind], *, by_indicator: bool, by_question: bool,
    excluding: bool,
) -> list[Any]:
    """The bank's questions a pick may choose from; the lists arrive as parameters."""
    conditions: list[Any] = [question.kind.in_(sorted(kinds))]
    if by_indicator:
        conditions.append(question.indicator_id.in_(bindparam("indicator_ids", expanding=True)))
    if by_question:
        conditions.append(question.id.in_(bindparam("question_ids", expanding=True)))
    if excluding:
        conditions.append(question.id.not_in(bindparam("exclude", expanding=True)))
    return conditions


def _due_card(question: Any, conditions: list[Any], *, due_only: bool) -> ScalarSelect[int]:
    """The question of the person's most overdue card (or, not `due_only`, soonest due)."""
    stmt = (
        select(QuizCard.question_id)
        .join(question, question.id == QuizCard.question_id)
        .where(QuizCard.person_id == bindparam("person_id"), *conditions)
        .order_by(QuizCard.due, QuizCard.id)
        .limit(1)
    )
    if due_only:
        stmt = stmt.where(QuizCard.due <= bindparam("now"))
    return stmt.scalar_subquery()


def _new_question(question: Any, conditions: list[Any]) -> ScalarSelect[int]:
    """An unseen question, easiest first (uses uq_quiz_cards_person_question)."""
    seen = exists().where(QuizCard.person_id == bindparam("person_id"),
                          QuizCard.question_id == question.id)
    return (
        select(question.id)
        .where(~seen, *conditions)
        .order_by(question.difficulty, question.key)
        .limit(1)
        .scalar_subquery()
    )


@lru_cache(maxsize=64)
def _next_question_statement(
    kinds: frozenset[QuestionKind], by_indicator: bool, by_question: bool, excluding: bool
) -> Select[Question]:
    """The pick as a statement with parameters, built once per shape: building three
    subqueries per answer cost several times what running them does."""
    due_q, new_q, soon_q = (aliased(Question, name=n) for n in ("due_q", "new_q", "soon_q"))

    def tier(question: Any) -> list[Any]:
        return _question_filter(question, kinds, by_indicator=by_indicator,
                                by_question=by_question, excluding=excluding)

    chosen = func.coalesce(
        _due_card(due_q, tier(due_q), due_only=True),
        _new_question(new_q, tier(new_q)),
        _due_card(soon_q, tier(soon_q), due_only=False),
    )
    return select(Question).where(Question.id == chosen)


async def next_question(
    *,
    session: AsyncSession,
    person_id: int,
    now: datetime,
    kinds: Collection[QuestionKind],
    indicator_ids: Collection[int] | None = None,
    exclude: Collection[int] = (),
    question_ids: Collection[int] | None = None,
) -> Question | None:
    """The person's next question in one statement: the most overdue card's (uses
    ix_quiz_cards_person_due), else an unseen one, else the soonest due card's.

    Each tier is an uncorrelated scalar subquery, evaluated once and only when the tier
    before it found nothing (COALESCE stops at the first value), so the outer query is a
    primary-key lookup.
    """
    stmt = _next_question_statement(frozenset(kinds), indicator_ids is not None,
                                    question_ids is not None, bool(exclude))
    params: dict[str, Any] = {"person_id": person_id, "now": now}
    if indicator_ids is not None:
        params["indicator_ids"] = list(indicator_ids)
    if question_ids is not None:
        params["question_ids"] = list(question_ids)
    if exclude:
        params["exclude"] = list(exclude)
    return (await session.execute(stmt, params)).scalar_one_or_none()


async def count_due(*, session: AsyncSession, person_id: int, now: datetime) -> int:
    stmt = select(func.count(QuizCard.id)).where(
        QuizCard.person_id == person_id, QuizCard.due <= now
    )
    return int((await session.execute(stmt)).scalar_one())


async def count_cards(*, session: AsyncSession, person_id: int) -> int:
    stmt = select(func.count(QuizCard.id)).where(QuizCard.person_id == person_id)
    return int((await session.execute(stmt)).scalar_one())


# Cards and reviews ------------------------------------------------------------------------
async def get_card(*, session: AsyncSession, person_id: int, question_id: int) -> QuizCard | None:
    stmt = select(QuizCard).where(
        QuizCard.person_id == person_id, QuizCard.question_id == question_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def add_card(*, session: AsyncSession, card: QuizCard) -> QuizCard:
    session.add(card)
    await session.flush()
    return card


async def add_review(*, session: AsyncSession, review: QuizReview) -> QuizReview:
    session.add(review)
    await session.flush()
    return review


CARD_PAGE = 1000


def _card_page_statement(by_person: bool) -> Any:
    stmt = (
        select(QuizCard.id, QuizCard.person_id, Question.indicator_id, QuizCard.state,
               QuizCard.stability, QuizCard.last_review)
        .join(Question, Question.id == QuizCard.question_id)
        .where(QuizCard.id > bindparam("after"))
        .order_by(QuizCard.id)
        .limit(bindparam("size"))
    )
    if by_person:
        stmt = stmt.where(QuizCard.person_id.in_(bindparam("person_ids", expanding=True)))
    return stmt


_CARD_PAGES = {False: _card_page_statement(False), True: _card_page_statement(True)}


async def card_states(
    *, session: AsyncSession, person_ids: Collection[int] | None = None, size: int = CARD_PAGE
) -> AsyncIterator[Sequence[Row[int, int, int, int, float | None, datetime | None]]]:
    """(card id, person_id, indicator_id, state, stability, last_review) for every card (or
    those of `person_ids`), in pages of `size` in card order: one statement a page, so a
    reader walking 40,000 cards lets the event loop run between pages."""
    params: dict[str, Any] = {"after": 0, "size": size}
    if person_ids is not None:
        params["person_ids"] = list(person_ids)
    while True:
        page = (await session.execute(_CARD_PAGES[person_ids is not None], params)).all()
        if page:
            yield page
        if len(page) < size:
            return
        params["after"] = page[-1][0]


async def review_totals_since(
    *, session: AsyncSession, since: datetime | None
) -> dict[int, tuple[int, int, float]]:
    """person_id → (answers, correct answers, points) since `since` (all time when None)."""
    stmt = select(
        QuizReview.person_id,
        func.count(QuizReview.id),
        func.sum(case((QuizReview.correct.is_(True), 1), else_=0)),
        func.sum(QuizReview.score),
    ).group_by(QuizReview.person_id)
    if since is not None:
        stmt = stmt.where(QuizReview.at >= since)
    return {
        row[0]: (int(row[1]), int(row[2] or 0), float(row[3] or 0))
        for row in (await session.execute(stmt)).all()
    }


# Sessions -----------------------------------------------------------------------------------
async def open_session(*, session: AsyncSession, person_id: int) -> QuizSession | None:
    stmt = (
        select(QuizSession)
        .where(QuizSession.person_id == person_id, QuizSession.ended_at.is_(None))
        .order_by(QuizSession.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_session(*, session: AsyncSession, session_id: int) -> QuizSession | None:
    return await session.get(QuizSession, session_id)


async def end_open_sessions(*, session: AsyncSession, person_id: int, now: datetime) -> None:
    await session.execute(
        update(QuizSession)
        .where(QuizSession.person_id == person_id, QuizSession.ended_at.is_(None))
        .values(ended_at=now)
    )


async def add_session(*, session: AsyncSession, quiz_session: QuizSession) -> QuizSession:
    session.add(quiz_session)
    await session.flush()
    return quiz_session


# Polls ------------------------------------------------------------------------------------
async def add_poll(*, session: AsyncSession, poll: QuizPoll) -> QuizPoll:
    session.add(poll)
    await session.flush()
    return poll


async def get_poll(*, session: AsyncSession, poll_id: str) -> QuizPoll | None:
    return await session.get(QuizPoll, poll_id)


async def unanswered_polls(*, session: AsyncSession, session_id: int) -> Sequence[QuizPoll]:
    stmt = select(QuizPoll).where(
        QuizPoll.session_id == session_id, QuizPoll.answered_at.is_(None)
    )
    return (await session.execute(stmt)).scalars().all()


@lru_cache(maxsize=1)
def _answer_context_stmt() -> Any:
    # Built once: constructing the joins costs more Python than running them (an answer
    # is the quiz's hottest update); the poll id is a parameter.
    return (
        select(QuizPoll, Person.telegram_id, Question, QuizCard, QuizSession)
        .join(Person, Person.id == QuizPoll.person_id)
        .join(Question, Question.id == QuizPoll.question_id)
        .outerjoin(QuizCard, and_(QuizCard.person_id == QuizPoll.person_id,
                                  QuizCard.question_id == QuizPoll.question_id))
        .outerjoin(QuizSession, QuizSession.id == QuizPoll.session_id)
        .where(QuizPoll.poll_id == bindparam("poll_id"))
    )


async def answer_context(
    *, session: AsyncSession, poll_id: str
) -> Row[QuizPoll, int | None, Question, QuizCard | None, QuizSession | None] | None:
    """A poll with what scoring its answer needs, in one statement: the telegram id of
    the person it was sent to, its question, that person's card for it (None before the
    first answer) and its session."""
    result = await session.execute(_answer_context_stmt(), {"poll_id": poll_id})
    row: Row[QuizPoll, int | None, Question, QuizCard | None, QuizSession | None] | None
    row = result.first()
    return row


@lru_cache(maxsize=1)
def _skip_context_stmt() -> Any:
    question_id: Any = bindparam("question_id")
    return (
        select(QuizSession, QuizPoll, QuizCard)
        .outerjoin(QuizPoll, and_(QuizPoll.session_id == QuizSession.id,
                                  QuizPoll.question_id == question_id,
                                  QuizPoll.answered_at.is_(None)))
        .outerjoin(QuizCard, and_(QuizCard.person_id == QuizSession.person_id,
                                  QuizCard.question_id == question_id))
        .where(QuizSession.id == bindparam("session_id"))
    )


async def skip_context(
    *, session: AsyncSession, session_id: int, question_id: int
) -> tuple[QuizSession | None, list[QuizPoll], QuizCard | None]:
    """A session with its unanswered polls of one question and the person's card for that
    question, in one statement (built once, as an answer's)."""
    rows = (await session.execute(
        _skip_context_stmt(), {"session_id": session_id, "question_id": question_id}
    )).all()
    if not rows:
        return None, [], None
    return rows[0][0], [r[1] for r in rows if r[1] is not None], rows[0][2]


# Reminder preferences -----------------------------------------------------------------------
async def get_preference(*, session: AsyncSession, person_id: int) -> QuizPreference | None:
    return await session.get(QuizPreference, person_id)


async def ensure_preference(*, session: AsyncSession, person_id: int) -> QuizPreference:
    pref = await session.get(QuizPreference, person_id)
    if pref is None:
        pref = QuizPreference(person_id=person_id, reminders_on=True)
        session.add(pref)
        await session.flush()
    return pref


async def reminder_people(
    *, session: AsyncSession, today: date
) -> Sequence[Row[Person, QuizPreference | None]]:
    """Linked people not yet considered for today's review reminder."""
    stmt = (
        select(Person, QuizPreference)
        .outerjoin(QuizPreference, QuizPreference.person_id == Person.id)
        .where(
            Person.telegram_id.is_not(None),
            Person.is_active.is_(True),
            or_(
                QuizPreference.person_id.is_(None),
                (QuizPreference.reminders_on.is_(True))
                & or_(
                    QuizPreference.last_reminded_on.is_(None),
                    QuizPreference.last_reminded_on < today,
                ),
            ),
        )
        .order_by(Person.id)
    )
    return (await session.execute(stmt)).all()


async def due_counts(
    *, session: AsyncSession, person_ids: Collection[int], now: datetime
) -> dict[int, int]:
    stmt = (
        select(QuizCard.person_id, func.count(QuizCard.id))
        .where(QuizCard.person_id.in_(list(person_ids)), QuizCard.due <= now)
        .group_by(QuizCard.person_id)
    )
    return {row[0]: int(row[1]) for row in (await session.execute(stmt)).all()}
