"""A file someone sent, kept until they confirm it: the office's table imports.

The file waits on disk and as a row, so a confirmation after a restart still finds it;
confirming claims the row first, so a second press cannot apply it twice; only the person
who sent it may confirm or cancel it. Each kind of kept upload (the breakdown table, the
indicator workbook) names its rows' repository functions and its refusals.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.access import Actor
from bot.core.errors import DomainError
from db.repositories import evidence as evidence_repo


async def is_office_file(session: AsyncSession, actor: Actor | None, now: datetime) -> bool:
    """An admin's spreadsheet is for the office (a table or workbook to keep for
    confirmation), unless they just pressed a card's "upload evidence" button: then their
    next file is evidence for that task."""
    if actor is None or not actor.is_admin:
        return False
    target = await evidence_repo.active_target(session=session, person_id=actor.person_id, now=now)
    return target is None


class KeptRow(Protocol):
    id: int
    person_id: int
    stored_path: str
    applied_at: datetime | None


Row = TypeVar("Row", bound=KeptRow)


@dataclass(frozen=True)
class KeptUploads(Generic[Row]):
    """One kind of kept upload: where its rows are and how its refusals read."""

    get: Callable[..., Awaitable[Row | None]]  # (session=, import_id=)
    claim: Callable[..., Awaitable[bool]]  # (session=, import_id=, now=)
    delete: Callable[..., Awaitable[None]]  # (session=, import_id=)
    # The refusals, each made where it is raised (an exception is not reused): the file or
    # row is gone, it was applied or dropped already, it belongs to someone else.
    gone: Callable[[], DomainError]
    already: Callable[[], DomainError]
    not_yours: Callable[[], DomainError]
    prefix: str = ""  # of the stored file's name

    async def store(self, data: bytes, data_dir: Path, extension: str) -> tuple[str, Path]:
        """Put the file under `data_dir/imports` with a fresh token: (token, path)."""
        token = secrets.token_hex(12)
        path = data_dir / "imports" / f"{self.prefix}{token}.{extension}"
        await asyncio.to_thread(_write, path, data)
        return token, path

    async def take(
        self, session: AsyncSession, import_id: int, person_id: int, now: datetime
    ) -> tuple[Row, bytes]:
        """Claim a kept upload for applying in the caller's transaction: the row and the
        file. Claimed before anything is read, so a second press finds it taken."""
        claimed = await self.claim(session=session, import_id=import_id, now=now)
        row = await self.own(session, import_id, person_id)
        if not claimed:
            raise self.already()
        data = await asyncio.to_thread(_read, Path(row.stored_path))
        if data is None:
            raise self.gone()
        return row, data

    async def cancel(self, session: AsyncSession, import_id: int, person_id: int) -> None:
        """Drop a kept upload that was not applied, its file with it."""
        row = await self.own(session, import_id, person_id)
        if row.applied_at is not None:
            raise self.already()
        await self.delete(session=session, import_id=row.id)
        await asyncio.to_thread(Path(row.stored_path).unlink, missing_ok=True)

    async def own(self, session: AsyncSession, import_id: int, person_id: int) -> Row:
        row = await self.get(session=session, import_id=import_id)
        if row is None:
            raise self.gone()
        if row.person_id != person_id:
            raise self.not_yours()
        return row


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None

