"""Quizzes: the question bank, each person's spaced-repetition cards and review history,
the polls in flight and the session a person is in (all of it survives a restart)."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base
from db.models.core import Indicator, _enum


class QuestionKind(enum.StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUEFALSE = "truefalse"
    OPEN = "open"

    @property
    def is_poll(self) -> bool:
        return self is not QuestionKind.OPEN


class SessionKind(enum.StrEnum):
    QUIZ = "quiz"
    DRILL = "drill"


class Question(Base):
    """One question of the bank; `key` is its stable id across imports (e.g. `q001`)."""

    __tablename__ = "quiz_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[QuestionKind] = mapped_column(_enum(QuestionKind))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"), index=True)
    difficulty: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    correct: Mapped[list[int]] = mapped_column(JSON, default=list)
    explanation: Mapped[str] = mapped_column(Text, default="")
    key_points: Mapped[list[str]] = mapped_column(JSON, default=list)
    model_answer: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(100), default="")

    indicator: Mapped[Indicator] = relationship()


class QuizCard(Base):
    """FSRS memory state of one question for one person (one card per pair)."""

    __tablename__ = "quiz_cards"
    __table_args__ = (
        UniqueConstraint("person_id", "question_id", name="uq_quiz_cards_person_question"),
        # Picking the next due card is "this person's cards, earliest due first".
        Index("ix_quiz_cards_person_due", "person_id", "due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(
        ForeignKey("quiz_questions.id", ondelete="CASCADE"), index=True
    )
    # fsrs.State: 1 learning, 2 review, 3 relearning.
    state: Mapped[int] = mapped_column(Integer, default=1)
    step: Mapped[int | None] = mapped_column(Integer)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime] = mapped_column()
    last_review: Mapped[datetime | None] = mapped_column()
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)


class QuizReview(Base):
    """Append-only: one answer (poll or drill) with the rating FSRS was given."""

    __tablename__ = "quiz_reviews"
    __table_args__ = (Index("ix_quiz_reviews_person_at", "person_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("quiz_questions.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(index=True)
    rating: Mapped[int] = mapped_column(Integer)
    correct: Mapped[bool] = mapped_column(Boolean)
    # 1.0/0.0 for a poll, key-point coverage for a drill.
    score: Mapped[float] = mapped_column(Float)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[SessionKind] = mapped_column(_enum(SessionKind))


class QuizSession(Base):
    """A person's current /quiz or /drill: what was asked, what is awaited."""

    __tablename__ = "quiz_sessions"
    __table_args__ = (Index("ix_quiz_sessions_person_open", "person_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    kind: Mapped[SessionKind] = mapped_column(_enum(SessionKind))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # The indicators asked about (one and those below it); None means the whole bank.
    scope: Mapped[list[int] | None] = mapped_column(JSON)
    length: Mapped[int] = mapped_column(Integer)
    asked: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    # Questions passed over with "skip": asked, but neither right nor wrong.
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    asked_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # The question awaiting an answer (a poll, or a drill's free-text reply).
    current_question_id: Mapped[int | None] = mapped_column(
        ForeignKey("quiz_questions.id", ondelete="SET NULL")
    )
    current_sent_at: Mapped[datetime | None] = mapped_column()
    current_message_id: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()


class QuizPoll(Base):
    """A quiz poll sent to a person: answers arrive later, as separate updates."""

    __tablename__ = "quiz_polls"

    poll_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("quiz_questions.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("quiz_sessions.id", ondelete="SET NULL"), index=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    # Position shown → index in the question's options (options are shuffled per poll).
    option_order: Mapped[list[int]] = mapped_column(JSON)
    sent_at: Mapped[datetime] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column()
    correct: Mapped[bool | None] = mapped_column(Boolean)


class QuizPreference(Base):
    """A person's daily review reminder; no row means the configured default time."""

    __tablename__ = "quiz_preferences"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True
    )
    review_time: Mapped[time | None] = mapped_column(Time)
    reminders_on: Mapped[bool] = mapped_column(Boolean, default=True)
    # The local date of the last reminder, so a restart on the same day does not repeat it.
    last_reminded_on: Mapped[date | None] = mapped_column(Date)
