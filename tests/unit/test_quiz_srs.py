"""FSRS ratings from answers, scheduling on an injected clock, and mastery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Rating, Scheduler, State

from bot.core.clock import FrozenClock
from bot.quiz.srs import Srs, expected_seconds, rating_for_answer, rating_for_score
from db.models import QuizCard

START = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


def _card() -> QuizCard:
    return QuizCard(person_id=1, question_id=1, state=int(State.Learning), step=0, due=START,
                    reps=0, lapses=0)


@pytest.fixture
def srs() -> Srs:
    # No fuzzing: intervals must be exact for comparisons.
    return Srs(Scheduler(enable_fuzzing=False))


def test_ratings_from_correctness_and_time() -> None:
    chars = 60  # a short question with its options: 15 s expected
    assert expected_seconds(chars) == 15
    assert rating_for_answer(False, 3, chars) is Rating.Again
    assert rating_for_answer(True, 5, chars) is Rating.Easy
    assert rating_for_answer(True, 20, chars) is Rating.Good
    assert rating_for_answer(True, 120, chars) is Rating.Hard
    assert rating_for_answer(True, None, chars) is Rating.Good


@pytest.mark.parametrize(
    ("score", "rating"),
    [(1.0, Rating.Easy), (0.8, Rating.Good), (0.5, Rating.Hard), (0.4, Rating.Again),
     (0.0, Rating.Again)],
)
def test_ratings_from_drill_scores(score: float, rating: Rating) -> None:
    assert rating_for_score(score) is rating


def test_a_wrong_answer_comes_back_sooner_than_a_right_one(srs: Srs) -> None:
    clock = FrozenClock(START)
    wrong, right = _card(), _card()
    srs.review(wrong, Rating.Again, clock.now())
    srs.review(right, Rating.Good, clock.now())
    assert wrong.due < right.due
    # Both learned again the next day: the one once forgotten stays behind.
    clock.advance(timedelta(days=1))
    for card in (wrong, right):
        srs.review(card, Rating.Good, clock.now())
        srs.review(card, Rating.Good, clock.now())
    assert wrong.due <= right.due
    assert wrong.reps == right.reps == 3


def test_an_easy_answer_graduates_and_schedules_days_ahead(srs: Srs) -> None:
    card = _card()
    srs.review(card, Rating.Easy, START)
    assert card.state == State.Review
    assert card.due - START >= timedelta(days=1)
    assert card.last_review == START


def test_a_lapse_is_counted(srs: Srs) -> None:
    card = _card()
    srs.review(card, Rating.Easy, START)
    srs.review(card, Rating.Again, card.due)
    assert card.lapses == 1 and card.state == State.Relearning


def test_mastery_is_recall_probability_of_graduated_cards(srs: Srs) -> None:
    card = _card()
    srs.review(card, Rating.Good, START)
    assert srs.mastery(card.state, card.stability, card.last_review, START) == 0.0
    srs.review(card, Rating.Easy, START + timedelta(minutes=10))
    assert card.state == State.Review
    now = START + timedelta(minutes=10)
    fresh = srs.mastery(card.state, card.stability, card.last_review, now)
    later = srs.mastery(card.state, card.stability, card.last_review, now + timedelta(days=30))
    assert fresh == pytest.approx(1.0)
    assert 0 < later < fresh
