"""A person's /quiz and /drill: what to ask next, what an answer means, and the state in
between, all kept in the database (a poll answer may arrive after a restart)."""

from __future__ import annotations

import asyncio
import random
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

from fsrs import Rating
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import AlreadyDone, NotFound
from bot.quiz import srs as srs_service
from bot.quiz import topics
from bot.quiz.bank import MAX_QUESTION
from bot.quiz.drill import DrillScore, score_answer
from bot.quiz.lexicon import Lexicon, shipped
from bot.quiz.srs import OPEN_KINDS, POLL_KINDS, Srs
from db.models import Question, QuestionKind, QuizPoll, QuizSession, SessionKind
from db.repositories import people as people_repo
from db.repositories import quiz as quiz_repo


@dataclass(frozen=True)
class PollPlan:
    """One quiz poll ready to send; `options` are in the order shown."""

    session_id: int
    question_id: int
    number: int
    total: int
    question: str
    options: tuple[str, ...]
    order: tuple[int, ...]  # shown position → index in the question's options
    correct_ids: tuple[int, ...]  # shown positions
    multiple: bool
    explanation: str


@dataclass(frozen=True)
class PollAnswered:
    person_id: int
    chat_id: int
    correct: bool
    quiz_session: QuizSession | None  # the poll's session, if it was still open
    # The session's next poll to send; None with the session open means it was not moved
    # on (no rng given), with it ended that the answer completed it.
    next_plan: PollPlan | None = None


@dataclass(frozen=True)
class Skipped:
    quiz_session: QuizSession
    next_plan: PollPlan | None  # None: the skip completed the session


@dataclass(frozen=True)
class DrillResult:
    question: Question
    result: DrillScore


async def indicator_scope(session: AsyncSession, query: str | None) -> list[int] | None:
    """The indicator named by code or name, with every indicator below it (None = all)."""
    if not query:
        return None
    wanted = query.strip().casefold()
    indicators = await people_repo.all_indicators(session=session)
    root = next((i for i in indicators if i.code.casefold() == wanted), None) or next(
        (i for i in indicators if i.name.casefold() == wanted), None
    )
    if root is None:
        raise NotFound("quiz.unknown_indicator", query=query.strip())
    scope, frontier = {root.id}, [root.id]
    while frontier:
        parent = frontier.pop()
        for child in indicators:
            if child.parent_id == parent and child.id not in scope:
                scope.add(child.id)
                frontier.append(child.id)
    return sorted(scope)


async def start_quiz(
    session: AsyncSession,
    *,
    person_id: int,
    chat_id: int,
    indicator: str | None,
    length: int,
    now: datetime,
) -> QuizSession:
    """A new session of `length` polls; any open session or drill of the person ends."""
    scope = await indicator_scope(session, indicator)
    if scope is not None and (await topics.resolve(session, scope)).question_ids == ():
        raise NotFound("quiz.no_questions", query=(indicator or "").strip())
    await quiz_repo.end_open_sessions(session=session, person_id=person_id, now=now)
    return await quiz_repo.add_session(session=session, quiz_session=QuizSession(
        person_id=person_id, kind=SessionKind.QUIZ, chat_id=chat_id,
        length=length, asked=0, correct=0, asked_ids=[], started_at=now,
        scope=scope,
    ))


async def current_session(session: AsyncSession, session_id: int) -> QuizSession | None:
    return await quiz_repo.get_session(session=session, session_id=session_id)


async def scope_name(session: AsyncSession, quiz_session: QuizSession) -> str:
    """The name of the indicator a session was asked for ("" for all of them)."""
    if not quiz_session.scope:
        return ""
    indicators = await people_repo.all_indicators(session=session)
    return next((i.name for i in indicators if i.id == quiz_session.scope[0]), "")


def plan_poll(
    quiz_session: QuizSession, question: Question, rng: random.Random
) -> PollPlan:
    order = list(range(len(question.options)))
    # True/false keeps its natural order; other options are shuffled so a position is
    # never what gets remembered.
    if question.kind is not QuestionKind.TRUEFALSE:
        rng.shuffle(order)
    number = quiz_session.asked + 1
    prefixed = f"({number}/{quiz_session.length}) {question.text}"
    return PollPlan(
        session_id=quiz_session.id,
        question_id=question.id,
        number=number,
        total=quiz_session.length,
        question=prefixed if len(prefixed) <= MAX_QUESTION else question.text,
        options=tuple(question.options[i] for i in order),
        order=tuple(order),
        correct_ids=tuple(sorted(order.index(i) for i in question.correct)),
        multiple=question.kind is QuestionKind.MULTIPLE,
        explanation=question.explanation,
    )


async def _pick(
    session: AsyncSession, quiz_session: QuizSession, *, now: datetime
) -> Question | None:
    """The open session's next question (None when it is complete), read before the
    caller changes anything, so that everything it writes goes out in one flush."""
    if quiz_session.ended_at is not None or quiz_session.asked >= quiz_session.length:
        return None
    return await srs_service.pick_next(
        session, person_id=quiz_session.person_id, now=now, kinds=POLL_KINDS,
        indicator_ids=quiz_session.scope, exclude=quiz_session.asked_ids,
    )


def _ask(
    quiz_session: QuizSession, question: Question, *, now: datetime, rng: random.Random
) -> PollPlan:
    plan = plan_poll(quiz_session, question, rng)
    quiz_session.asked += 1
    # A new list, so the JSON column sees the change.
    quiz_session.asked_ids = [*quiz_session.asked_ids, question.id]
    quiz_session.current_question_id = question.id
    quiz_session.current_sent_at = now
    return plan


def _move_on(
    quiz_session: QuizSession, question: Question | None, *, now: datetime, rng: random.Random
) -> PollPlan | None:
    """Ask `question` next, or end the session when there is none."""
    if question is None:
        quiz_session.ended_at = now
        return None
    return _ask(quiz_session, question, now=now, rng=rng)


async def next_poll(
    session: AsyncSession, quiz_session: QuizSession, *, now: datetime, rng: random.Random
) -> PollPlan | None:
    """The next question of an open session, or None when it is complete."""
    question = await _pick(session, quiz_session, now=now)
    if question is None:
        return None
    plan = _ask(quiz_session, question, now=now, rng=rng)
    await session.flush()
    return plan


async def poll_sent(
    session: AsyncSession, plan: PollPlan, *, poll_id: str, person_id: int, chat_id: int,
    message_id: int, now: datetime,
) -> None:
    await quiz_repo.add_poll(session=session, poll=QuizPoll(
        poll_id=poll_id, person_id=person_id, question_id=plan.question_id,
        session_id=plan.session_id, chat_id=chat_id, message_id=message_id,
        option_order=list(plan.order), sent_at=now,
    ))


async def answer_poll(
    session: AsyncSession, srs: Srs, *, poll_id: str, telegram_id: int,
    option_ids: tuple[int, ...], now: datetime, rng: random.Random | None = None,
) -> PollAnswered | None:
    """Score a poll answer and review the card; None when the poll is not ours to score.

    Given `rng`, the session also moves on in the same unit of work: its next question is
    chosen (or the session ends) and returned to be sent. The poll, its person, question,
    card and session are read in one statement and the next question in another; the
    answer, the card, the review and the session are written in one flush.
    """
    found = await quiz_repo.answer_context(session=session, poll_id=poll_id)
    if found is None:
        return None
    poll, owner, question, card, quiz_session = found
    if poll.answered_at is not None or not option_ids or owner != telegram_id:
        return None
    chosen = {poll.option_order[i] for i in option_ids if 0 <= i < len(poll.option_order)}
    correct = chosen == set(question.correct)
    seconds = max(0.0, (now - poll.sent_at).total_seconds())
    rating = srs_service.rating_for_answer(correct, seconds, srs_service.reading_chars(question))
    if quiz_session is not None and quiz_session.ended_at is not None:
        quiz_session = None
    following = None
    if quiz_session is not None and rng is not None:
        following = await _pick(session, quiz_session, now=now)
    poll.answered_at = now
    poll.correct = correct
    plan = None
    if quiz_session is not None:
        quiz_session.correct += int(correct)
        quiz_session.current_question_id = None
        if rng is not None:
            plan = _move_on(quiz_session, following, now=now, rng=rng)
    await srs_service.review(
        session, srs, card, person_id=poll.person_id, question_id=question.id, rating=rating,
        score=1.0 if correct else 0.0, kind=SessionKind.QUIZ, now=now,
        duration_ms=int(seconds * 1000),
    )
    return PollAnswered(poll.person_id, poll.chat_id, correct, quiz_session, plan)


async def skip(
    session: AsyncSession, srs: Srs, *, person_id: int, session_id: int, question_id: int,
    now: datetime, rng: random.Random,
) -> Skipped | None:
    """"I don't know": the question is reviewed as forgotten and the session moves on to
    its next question (or ends), read and written as an answer is."""
    quiz_session, polls, card = await quiz_repo.skip_context(
        session=session, session_id=session_id, question_id=question_id
    )
    if (
        quiz_session is None
        or quiz_session.person_id != person_id
        or quiz_session.ended_at is not None
        or quiz_session.current_question_id != question_id
    ):
        return None
    following = await _pick(session, quiz_session, now=now)
    quiz_session.skipped += 1
    quiz_session.current_question_id = None
    plan = _move_on(quiz_session, following, now=now, rng=rng)
    for poll in polls:
        poll.answered_at = now
        poll.correct = False
        card = (await srs_service.review(
            session, srs, card, person_id=person_id, question_id=question_id,
            rating=Rating.Again, score=0.0, kind=SessionKind.QUIZ, now=now,
        )).card
    await session.flush()
    return Skipped(quiz_session, plan)


async def stop(
    session: AsyncSession, *, person_id: int, session_id: int, now: datetime
) -> QuizSession | None:
    """End the person's session; None when it is not theirs. A second press of ⏹ finds it
    ended and says so once, instead of the summary again."""
    quiz_session = await quiz_repo.get_session(session=session, session_id=session_id)
    if quiz_session is None or quiz_session.person_id != person_id:
        return None
    if quiz_session.ended_at is not None:
        raise AlreadyDone("quiz.already_stopped")
    quiz_session.ended_at = now
    await session.flush()
    return quiz_session


def answered(quiz_session: QuizSession) -> int:
    """Questions answered: asked, less those skipped and the one still waiting."""
    waiting = 1 if quiz_session.current_question_id else 0
    return max(0, quiz_session.asked - quiz_session.skipped - waiting)


async def finish(session: AsyncSession, quiz_session: QuizSession, *, now: datetime) -> None:
    quiz_session.ended_at = now
    await session.flush()


# Drills ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DrillAsked:
    drill_id: int
    question: Question
    indicator_name: str


async def start_drill(
    session: AsyncSession, *, person_id: int, chat_id: int, indicator: str | None,
    now: datetime,
) -> DrillAsked:
    """Pick an open question (due first, then new) and wait for the free-text answer."""
    scope = await indicator_scope(session, indicator)
    question = await srs_service.pick_next(
        session, person_id=person_id, now=now, kinds=OPEN_KINDS, indicator_ids=scope
    )
    if question is None:
        raise NotFound("quiz.drill.none")
    await quiz_repo.end_open_sessions(session=session, person_id=person_id, now=now)
    drill = await quiz_repo.add_session(session=session, quiz_session=QuizSession(
        person_id=person_id, kind=SessionKind.DRILL, chat_id=chat_id, length=1, asked=1,
        correct=0, asked_ids=[question.id], current_question_id=question.id,
        current_sent_at=now, started_at=now, scope=scope,
    ))
    await session.refresh(question, ["indicator"])
    return DrillAsked(drill.id, question, question.indicator.name)


async def drill_prompt_sent(session: AsyncSession, drill_id: int, message_id: int) -> None:
    """Remember which message asked, so only a reply to it (or plain text) answers."""
    drill = await quiz_repo.get_session(session=session, session_id=drill_id)
    if drill is not None:
        drill.current_message_id = message_id


async def awaiting_drill(
    session: AsyncSession, *, person_id: int, now: datetime, patience: timedelta
) -> QuizSession | None:
    """The drill waiting for this person's answer; one that waited too long is closed."""
    drill = await quiz_repo.open_session(session=session, person_id=person_id)
    if drill is None or drill.kind is not SessionKind.DRILL or drill.current_question_id is None:
        return None
    if drill.current_sent_at is not None and now - drill.current_sent_at > patience:
        drill.ended_at = now
        await session.flush()
        return None
    return drill


async def answer_drill(
    session: AsyncSession, srs: Srs, drill: QuizSession, *, text: str, now: datetime,
    lexicon: Lexicon | None = None,
) -> DrillResult:
    """Score the answer by key points, feed FSRS, and close the drill."""
    question_id = drill.current_question_id
    question = (
        await quiz_repo.get_question(session=session, question_id=question_id)
        if question_id is not None else None
    )
    if question is None:
        raise NotFound("quiz.drill.none")
    result = score_answer(text, question.key_points, question=question.text,
                          question_key=question.key, lexicon=lexicon)
    rating = srs_service.rating_for_score(result.score)
    seconds = (now - drill.current_sent_at).total_seconds() if drill.current_sent_at else None
    await srs_service.record_answer(
        session, srs, person_id=drill.person_id, question_id=question.id, rating=rating,
        score=result.score, kind=SessionKind.DRILL, now=now,
        duration_ms=int(seconds * 1000) if seconds is not None else None,
    )
    drill.correct = int(rating is not Rating.Again)
    drill.current_question_id = None
    drill.ended_at = now
    await session.flush()
    return DrillResult(question, result)


class QuizRuntime:
    """What the quiz handlers share in one process: the scheduler and per-person locks.

    A poll's row is written right after Telegram returns the sent poll; holding the
    person's lock from sending until that commit means an answer (a separate update,
    processed concurrently) always finds its poll.
    """

    def __init__(self, srs: Srs | None = None, rng: random.Random | None = None,
                 lexicon: Lexicon | None = None) -> None:
        self.srs = srs or Srs()
        self.rng = rng or random.Random()
        self.lexicon = lexicon or shipped()
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def lock_for(self, telegram_id: int) -> asyncio.Lock:
        lock = self._locks.get(telegram_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[telegram_id] = lock
        return lock
