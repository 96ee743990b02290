"""Spaced repetition with FSRS: one card per person and question, ratings from answers,
due cards first and then new questions, and mastery as the chance of recalling today."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from fsrs import Card, Rating, Scheduler, State
from sqlalchemy.ext.asyncio import AsyncSession

from bot.quiz import topics
from db.models import Question, QuestionKind, QuizCard, QuizReview, SessionKind
from db.repositories import quiz as quiz_repo

# How long a careful reader needs for a question: a fixed start plus reading speed
# (Chinese characters per second while weighing the options).
BASE_SECONDS = 5.0
CHARS_PER_SECOND = 6.0
# Faster than this share of the expected time is "easy"; slower than the multiple, "hard".
EASY_SHARE = 0.6
HARD_MULTIPLE = 2.0
POLL_KINDS = frozenset(k for k in QuestionKind if k.is_poll)
OPEN_KINDS = frozenset({QuestionKind.OPEN})


def expected_seconds(reading_chars: int) -> float:
    return BASE_SECONDS + reading_chars / CHARS_PER_SECOND


def rating_for_answer(correct: bool, seconds: float | None, reading_chars: int) -> Rating:
    """A poll answer: wrong is Again; right is Easy, Good or Hard by how long it took."""
    if not correct:
        return Rating.Again
    if seconds is None:
        return Rating.Good
    expected = expected_seconds(reading_chars)
    if seconds <= expected * EASY_SHARE:
        return Rating.Easy
    if seconds <= expected * HARD_MULTIPLE:
        return Rating.Good
    return Rating.Hard


def rating_for_score(score: float) -> Rating:
    """A drill answer, by the share of key points it covered."""
    if score >= 0.999:
        return Rating.Easy
    if score >= 0.75:
        return Rating.Good
    if score >= 0.5:
        return Rating.Hard
    return Rating.Again


def reading_chars(question: Question) -> int:
    return len(question.text) + sum(len(o) for o in question.options)


class Srs:
    """FSRS scheduling over our card rows; pass a scheduler to fix its parameters."""

    def __init__(self, scheduler: Scheduler | None = None) -> None:
        self.scheduler = scheduler or Scheduler()
        decay = -self.scheduler.parameters[20]
        self._decay = decay
        self._factor = 0.9 ** (1 / decay) - 1

    def review(self, row: QuizCard, rating: Rating, now: datetime) -> None:
        """Apply one review to the row in place."""
        if row.reps == 0:
            card = Card(card_id=row.id or 0, due=now.astimezone(UTC))
        else:
            card = Card(
                card_id=row.id or 0,
                state=State(row.state),
                step=row.step,
                stability=row.stability,
                difficulty=row.difficulty,
                due=row.due.astimezone(UTC),
                last_review=row.last_review.astimezone(UTC) if row.last_review else None,
            )
        reviewed, _ = self.scheduler.review_card(card, rating, now.astimezone(UTC))
        if rating is Rating.Again and row.state == State.Review:
            row.lapses += 1
        row.state = int(reviewed.state)
        row.step = reviewed.step
        row.stability = reviewed.stability
        row.difficulty = reviewed.difficulty
        row.due = reviewed.due
        row.last_review = reviewed.last_review
        row.reps += 1

    def mastery(
        self, state: int, stability: float | None, last_review: datetime | None, now: datetime
    ) -> float:
        """Chance of recalling the answer now; a card still in (re)learning counts as 0.

        Right after any review FSRS predicts near-certain recall, even after a wrong answer;
        only a card that has graduated to review shows knowledge that lasts.
        """
        if state != State.Review or stability is None or last_review is None:
            return 0.0
        days = max(0.0, (now - last_review).total_seconds() / 86400)
        return float((1 + self._factor * days / stability) ** self._decay)


@dataclass(frozen=True)
class Answered:
    card: QuizCard
    rating: Rating


async def record_answer(
    session: AsyncSession,
    srs: Srs,
    *,
    person_id: int,
    question_id: int,
    rating: Rating,
    score: float,
    kind: SessionKind,
    now: datetime,
    duration_ms: int | None = None,
) -> Answered:
    """Review the person's card for this question (creating it) and log the review."""
    card = await quiz_repo.get_card(session=session, person_id=person_id, question_id=question_id)
    return await review(session, srs, card, person_id=person_id, question_id=question_id,
                        rating=rating, score=score, kind=kind, now=now, duration_ms=duration_ms)


async def review(
    session: AsyncSession,
    srs: Srs,
    card: QuizCard | None,
    *,
    person_id: int,
    question_id: int,
    rating: Rating,
    score: float,
    kind: SessionKind,
    now: datetime,
    duration_ms: int | None = None,
) -> Answered:
    """`record_answer` with the card already read (None: the first answer creates it).

    One flush writes the card, the review and whatever else the unit of work changed.
    """
    if card is None:
        card = QuizCard(person_id=person_id, question_id=question_id, state=int(State.Learning),
                        step=0, due=now, reps=0, lapses=0)
        session.add(card)
    srs.review(card, rating, now)
    await quiz_repo.add_review(session=session, review=QuizReview(
        person_id=person_id, question_id=question_id, at=now, rating=int(rating),
        correct=rating is not Rating.Again, score=score, duration_ms=duration_ms, kind=kind,
    ))
    return Answered(card, rating)


async def pick_next(
    session: AsyncSession,
    *,
    person_id: int,
    now: datetime,
    kinds: Collection[QuestionKind],
    indicator_ids: Collection[int] | None = None,
    exclude: Collection[int] = (),
) -> Question | None:
    """Due cards first (most overdue), then new questions, then the soonest upcoming card.

    The last tier keeps a session going for someone who has seen everything; FSRS handles
    an early review by giving it little weight. Indicators without questions of their own
    (a campaign's) ask the bank's questions on their topic (`bot.quiz.topics`).
    """
    scope = await topics.resolve(session, indicator_ids)
    return await quiz_repo.next_question(
        session=session, person_id=person_id, now=now, kinds=kinds,
        indicator_ids=scope.indicator_ids, question_ids=scope.question_ids, exclude=exclude,
    )
