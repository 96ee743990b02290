"""Quizzes at the Telegram edge: polls, drills, knowledge search and standings."""

from __future__ import annotations

from handlers.context import AppType
from handlers.quiz import drill, knowledge, polls


def register(app: AppType) -> None:
    polls.register(app)
    drill.register(app)
    knowledge.register(app)
