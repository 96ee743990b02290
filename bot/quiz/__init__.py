"""Quizzes: the question bank, polls, spaced repetition, drills and search."""
