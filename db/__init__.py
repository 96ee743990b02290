"""Persistence: models, repositories (queries), sessions and migrations.

Nothing here imports `bot` or `handlers`.
"""
