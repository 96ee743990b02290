"""Attaching one file of a batch to its task: downloaded outside any transaction, stored
by content (with its EXIF read on the way), then recorded unless the task already holds
the same content."""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import metrics
from bot.evidence import rules
from bot.evidence.batch import DownloadRefused, Fetch, SkippedFile
from bot.evidence.exif import ExifInfo, inspect_image
from bot.evidence.store import EvidenceStore, StorageError, StoredBlob
from bot.tasks import service as task_service
from db.models import Evidence, EvidenceKind, EvidenceStatus, Task
from db.repositories import evidence as repo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedFile:
    """A file that passed the checks, its task known, waiting to be downloaded."""

    row_id: int
    kind: EvidenceKind
    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str
    description: str
    chat_id: int
    message_id: int
    media_group_id: str | None


async def download(
    item: PlannedFile, fetch: Fetch, *, store: EvidenceStore, zone: ZoneInfo
) -> tuple[StoredBlob, ExifInfo]:
    """Fetch, check and store one file. Raises DownloadRefused / DownloadFailed (Telegram)
    or ImageRefused (a broken image, a decompression bomb) for this file alone."""
    path = await asyncio.to_thread(_scratch_file, store)
    try:
        await fetch(item.file_id, path)
        exif = ExifInfo()
        # A compressed photo has no EXIF left; only originals sent as files carry it.
        if item.kind is EvidenceKind.DOCUMENT and rules.is_image(
            item.kind, item.mime_type, item.file_name
        ):
            exif = await asyncio.to_thread(
                inspect_image, path, zone, extension=rules.extension_of(item.file_name),
                mime_type=item.mime_type,
            )
        try:
            blob = await asyncio.to_thread(store.put_file, path)
            metrics.evidence_stored(blob.size, created=blob.created)
        except StorageError as exc:
            # Already retried; the sender is told this file was not kept and sends it again.
            log.error("evidence %s not stored: %s", item.file_name, exc)
            raise DownloadRefused("evidence.refused.storage") from exc
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)
    return blob, exif


async def record(
    session: AsyncSession, task: Task, person_id: int, item: PlannedFile,
    blob: StoredBlob, exif: ExifInfo, now: datetime,
) -> Evidence | SkippedFile:
    """The new piece of evidence, or why it was skipped (the task has it already)."""
    known = await repo.same_content_on_task(session=session, task_id=task.id, sha256=blob.sha256)
    if known is not None:
        return SkippedFile.duplicate(item.file_name, known)
    evidence = Evidence(
        task_id=task.id, uploader_id=person_id, kind=item.kind, file_id=item.file_id,
        file_unique_id=item.file_unique_id, file_name=item.file_name,
        mime_type=item.mime_type or "application/octet-stream", size=blob.size,
        sha256=blob.sha256, description=item.description, chat_id=item.chat_id,
        message_id=item.message_id, media_group_id=item.media_group_id, uploaded_at=now,
        exif_taken_at=exif.taken_at, exif_latitude=exif.latitude,
        exif_longitude=exif.longitude, status=EvidenceStatus.PENDING,
    )
    try:
        # Two uploads of one file can race past the check above; the unique key decides.
        async with session.begin_nested():
            await repo.add_evidence(session=session, evidence=evidence)
    except IntegrityError:
        again = await repo.same_content_on_task(
            session=session, task_id=task.id, sha256=blob.sha256
        )
        if again is None:
            raise
        return SkippedFile.duplicate(item.file_name, again)
    await task_service.record_event(
        session, task, actor_id=person_id, at=now, kind="evidence",
        new=f"E{evidence.id}", note=" ".join(p for p in (item.file_name, item.description) if p),
    )
    return evidence


def _scratch_file(store: EvidenceStore) -> Path:
    handle, name = tempfile.mkstemp(dir=store.scratch_dir(), prefix="dl-")
    os.close(handle)
    return Path(name)
