"""Queries. Functions take the session keyword-only and only flush; callers commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession) -> Any:
    """The INSERT of the connection's dialect: both spell "insert unless the key exists"
    as ON CONFLICT, and SQLAlchemy keeps it in the dialect modules."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
