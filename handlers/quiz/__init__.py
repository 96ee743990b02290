"""Quizzes at the Telegram edge: polls, drills, knowledge search and standings."""
