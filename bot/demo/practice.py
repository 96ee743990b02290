"""Quiz practice before the demo started, worked out in memory with the bot's scheduler.

A person's planned days (`bot.demo.story.plan_practice`) become answers: each day a few
quiz polls and, for the diligent, a mock inspector question or two. Questions come in the
order /quiz and /drill ask them — cards due for review first, most overdue first, then new
questions easiest first — and each answer is rated and scheduled by the same `Srs` the
bot uses. Replaying thousands of answers one unit of work at a time would make the demo's
first start slow; here the cards and reviews are built as rows and written in one go.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fsrs import Rating, State

from bot.demo.story import Practice, at_minutes
from bot.quiz import srs as srs_service
from bot.quiz.srs import Srs
from db.models import QuizCard, QuizReview, SessionKind

# When people practise: lunch break, the evening reminder (19:30 by default), late evening.
PRACTICE_STARTS = (12 * 60 + 20, 19 * 60 + 30, 21 * 60 + 10)
# A question seen before is answered right more often.
SEEN_BONUS = 0.15
BEST_CHANCE = 0.97


@dataclass(frozen=True)
class BankQuestion:
    id: int
    reading_chars: int


@dataclass
class _Deck:
    """One person's cards and the questions they have not met yet (easiest first)."""

    person_id: int
    unseen: list[BankQuestion]
    cards: dict[int, QuizCard] = field(default_factory=dict)

    def pick(
        self, now: datetime, asked: set[int], by_id: dict[int, BankQuestion]
    ) -> BankQuestion | None:
        waiting = [c for c in self.cards.values() if c.question_id not in asked]
        due = [c for c in waiting if c.due <= now]
        if due:
            return by_id[min(due, key=lambda c: c.due).question_id]
        fresh = next((q for q in self.unseen if q.id not in asked), None)
        if fresh is not None:
            return fresh
        if waiting:
            return by_id[min(waiting, key=lambda c: c.due).question_id]
        return None

    def card(self, question: BankQuestion, now: datetime) -> QuizCard:
        card = self.cards.get(question.id)
        if card is None:
            # As `bot.quiz.srs.record_answer` creates a card on the first answer.
            card = QuizCard(person_id=self.person_id, question_id=question.id,
                            state=int(State.Learning), step=0, due=now, reps=0, lapses=0)
            self.cards[question.id] = card
            self.unseen = [q for q in self.unseen if q.id != question.id]
        return card


@dataclass(frozen=True)
class PractisedRows:
    cards: list[QuizCard]
    reviews: list[QuizReview]


def practise(
    plan: Practice,
    polls: Sequence[BankQuestion],
    drills: Sequence[BankQuestion],
    *,
    srs: Srs,
    rng: random.Random,
    zone: ZoneInfo,
) -> PractisedRows:
    """The cards and reviews `plan` leaves behind; `polls` and `drills` easiest first."""
    by_id = {q.id: q for q in (*polls, *drills)}
    decks = {
        SessionKind.QUIZ: _Deck(plan.person_id, list(polls)),
        SessionKind.DRILL: _Deck(plan.person_id, list(drills)),
    }
    reviews: list[QuizReview] = []
    for day in plan.days:
        at = at_minutes(day, rng.choice(PRACTICE_STARTS) + rng.randint(0, 25), zone)
        for kind, count in ((SessionKind.QUIZ, plan.per_day), (SessionKind.DRILL, plan.drills)):
            deck, asked = decks[kind], set[int]()
            for _ in range(count):
                question = deck.pick(at, asked, by_id)
                if question is None:
                    break
                asked.add(question.id)
                card = deck.card(question, at)
                chance = min(BEST_CHANCE, plan.skill + (SEEN_BONUS if card.reps else 0.0))
                seconds = srs_service.expected_seconds(question.reading_chars)
                if kind is SessionKind.QUIZ:
                    correct = rng.random() < chance
                    seconds *= rng.uniform(0.4, 1.6)
                    score = 1.0 if correct else 0.0
                    rating = srs_service.rating_for_answer(correct, seconds,
                                                           question.reading_chars)
                else:
                    # A drill answer covers part of the key points; practice covers more.
                    score = round(min(1.0, max(0.0, rng.gauss(chance, 0.2))), 2)
                    seconds *= rng.uniform(2.0, 4.0)
                    rating = srs_service.rating_for_score(score)
                srs.review(card, rating, at)
                reviews.append(QuizReview(
                    person_id=plan.person_id, question_id=question.id, at=at,
                    rating=int(rating), correct=rating is not Rating.Again, score=score,
                    duration_ms=int(seconds * 1000), kind=kind,
                ))
                at += timedelta(seconds=seconds + rng.uniform(3, 8))
    cards = [c for deck in decks.values() for c in deck.cards.values()]
    return PractisedRows(cards, reviews)
