"""The office's table import in chat: a sent file is previewed and kept until confirmed.

The file waits on disk and as a `PendingImport` row, so a confirmation after a restart
still finds it; confirming claims the row first, so a second press cannot import twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.access import Actor, require_admin
from bot.core.errors import InvalidInput, NotFound, PermissionDenied
from bot.core.kept import KeptUploads
from bot.core.xmltext import xml_safe
from bot.tables.importer import apply_import, preview_import
from bot.tables.parse import file_kind
from bot.tables.planner import ImportOptions, ImportPreview
from db.models import PendingImport
from db.repositories import tables as imports_repo


@dataclass(frozen=True)
class Received:
    preview: ImportPreview
    pending_id: int | None  # None when there is nothing to confirm (errors, or no change)


KEPT = KeptUploads[PendingImport](
    get=imports_repo.get_pending_import, claim=imports_repo.claim_pending_import,
    delete=imports_repo.delete_pending_import,
    gone=lambda: NotFound("tables.result.gone"),
    already=lambda: InvalidInput("tables.result.already"),
    not_yours=lambda: PermissionDenied("tables.result.not_yours"),
)


async def receive(
    session: AsyncSession,
    actor: Actor,
    *,
    data: bytes,
    file_name: str,
    options: ImportOptions,
    data_dir: Path,
    now: datetime,
) -> Received:
    """Preview the table; when it would change anything, keep it for confirmation."""
    require_admin(actor)
    file_name = xml_safe(file_name)
    kind = file_kind(file_name)
    preview = await preview_import(session, data, file_name, options, now=now)
    if not preview.needs_writing:
        return Received(preview, None)
    token, path = await KEPT.store(data, data_dir, kind)
    pending = await imports_repo.add_pending_import(
        session=session,
        pending=PendingImport(
            token=token, person_id=actor.person_id, campaign_id=preview.campaign_id,
            file_name=file_name[:300], stored_path=str(path), created_at=now,
        ),
    )
    return Received(preview, pending.id)


async def confirm(
    session: AsyncSession, actor: Actor, import_id: int, options: ImportOptions, now: datetime
) -> ImportPreview:
    """Apply a kept table in the caller's transaction."""
    require_admin(actor)
    pending, data = await KEPT.take(session, import_id, actor.person_id, now)
    return await apply_import(
        session, data, pending.file_name, options,
        actor_id=actor.person_id, now=now, campaign_id=pending.campaign_id,
    )


async def cancel(session: AsyncSession, actor: Actor, import_id: int) -> None:
    """Drop a kept table that was not imported."""
    require_admin(actor)
    await KEPT.cancel(session, import_id, actor.person_id)
