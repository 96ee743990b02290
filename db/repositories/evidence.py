"""Evidence files, the review queue, uploads in flight and the archive's listing."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from db.models import (
    Campaign,
    Evidence,
    EvidenceInbox,
    EvidenceKind,
    EvidenceStatus,
    Indicator,
    Person,
    Phase,
    Task,
    Unit,
    UploadTarget,
)

# Evidence ------------------------------------------------------------------------------


async def add_evidence(*, session: AsyncSession, evidence: Evidence) -> Evidence:
    session.add(evidence)
    await session.flush()
    return evidence


async def get_evidence(*, session: AsyncSession, evidence_id: int) -> Evidence | None:
    stmt = (
        select(Evidence)
        .where(Evidence.id == evidence_id)
        .options(
            selectinload(Evidence.task).selectinload(Task.owner),
            selectinload(Evidence.task).selectinload(Task.unit),
            selectinload(Evidence.uploader),
            selectinload(Evidence.reviewer),
        )
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def evidence_of_task(
    *, session: AsyncSession, task_id: int, statuses: Collection[EvidenceStatus] | None = None
) -> Sequence[Evidence]:
    stmt = (
        select(Evidence)
        .where(Evidence.task_id == task_id)
        .options(selectinload(Evidence.uploader), selectinload(Evidence.reviewer))
        .order_by(Evidence.id)
    )
    if statuses is not None:
        stmt = stmt.where(Evidence.status.in_(list(statuses)))
    return (await session.execute(stmt)).scalars().all()


async def same_content_on_task(
    *, session: AsyncSession, task_id: int, sha256: str | None = None,
    file_unique_id: str | None = None,
) -> Evidence | None:
    """The file already on this task, found by content hash or Telegram's unique id."""
    stmt = select(Evidence).where(Evidence.task_id == task_id)
    if sha256 is not None:
        stmt = stmt.where(Evidence.sha256 == sha256)
    elif file_unique_id is not None:
        stmt = stmt.where(Evidence.file_unique_id == file_unique_id)
    else:
        return None
    return (await session.execute(stmt.order_by(Evidence.id).limit(1))).scalar_one_or_none()


async def tasks_with_content(
    *, session: AsyncSession, sha256: str, exclude_task_id: int
) -> list[int]:
    stmt = (
        select(Evidence.task_id)
        .where(Evidence.sha256 == sha256, Evidence.task_id != exclude_task_id)
        .distinct()
        .order_by(Evidence.task_id)
    )
    return list((await session.execute(stmt)).scalars().all())


async def status_counts(*, session: AsyncSession, task_id: int) -> dict[EvidenceStatus, int]:
    stmt = (
        select(Evidence.status, func.count())
        .where(Evidence.task_id == task_id)
        .group_by(Evidence.status)
    )
    counts = {status: 0 for status in EvidenceStatus}
    for status, count in (await session.execute(stmt)).all():
        counts[EvidenceStatus(status)] = int(count)
    return counts


async def has_sent_photo(*, session: AsyncSession, uploader_id: int) -> bool:
    stmt = select(Evidence.id).where(
        Evidence.uploader_id == uploader_id, Evidence.kind == EvidenceKind.PHOTO
    )
    return (await session.execute(stmt.limit(1))).first() is not None


def _queue_filter(
    unit_ids: Collection[int] | None, exclude_uploader: int | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Evidence.status == EvidenceStatus.PENDING]
    if unit_ids is not None:
        conditions.append(Task.unit_id.in_(list(unit_ids)))
    if exclude_uploader is not None:
        conditions.append(
            or_(Evidence.uploader_id.is_(None), Evidence.uploader_id != exclude_uploader)
        )
    return conditions


async def next_pending(
    *, session: AsyncSession, unit_ids: Collection[int] | None, after_id: int = 0,
    exclude_uploader: int | None = None,
) -> Evidence | None:
    """The oldest pending file after `after_id` in the given units (None: every unit)."""
    stmt = (
        select(Evidence)
        .join(Task, Task.id == Evidence.task_id)
        .where(*_queue_filter(unit_ids, exclude_uploader), Evidence.id > after_id)
        .options(
            selectinload(Evidence.task).selectinload(Task.owner),
            selectinload(Evidence.task).selectinload(Task.unit),
            selectinload(Evidence.uploader),
        )
        .order_by(Evidence.id)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def count_pending(
    *, session: AsyncSession, unit_ids: Collection[int] | None, exclude_uploader: int | None = None
) -> int:
    stmt = (
        select(func.count())
        .select_from(Evidence)
        .join(Task, Task.id == Evidence.task_id)
        .where(*_queue_filter(unit_ids, exclude_uploader))
    )
    return int((await session.execute(stmt)).scalar_one())


# Uploads in flight ---------------------------------------------------------------------


async def add_inbox(*, session: AsyncSession, row: EvidenceInbox) -> EvidenceInbox:
    session.add(row)
    await session.flush()
    return row


async def get_inbox(*, session: AsyncSession, row_id: int) -> EvidenceInbox | None:
    return await session.get(EvidenceInbox, row_id)


async def inbox_batch(
    *, session: AsyncSession, person_id: int, batch_key: str
) -> Sequence[EvidenceInbox]:
    stmt = (
        select(EvidenceInbox)
        .where(EvidenceInbox.person_id == person_id, EvidenceInbox.batch_key == batch_key)
        .order_by(EvidenceInbox.message_id, EvidenceInbox.id)
    )
    return (await session.execute(stmt)).scalars().all()


async def delete_inbox(*, session: AsyncSession, row_ids: Collection[int]) -> None:
    if row_ids:
        await session.execute(delete(EvidenceInbox).where(EvidenceInbox.id.in_(list(row_ids))))


async def unasked_batches(*, session: AsyncSession) -> list[tuple[int, str]]:
    """Batches nobody has answered yet, e.g. an album cut short by a restart."""
    stmt = (
        select(EvidenceInbox.person_id, EvidenceInbox.batch_key)
        .where(EvidenceInbox.asked_at.is_(None))
        .distinct()
    )
    return [(int(p), str(k)) for p, k in (await session.execute(stmt)).all()]


async def purge_inbox(*, session: AsyncSession, received_before: datetime) -> int:
    result = await session.execute(
        delete(EvidenceInbox).where(EvidenceInbox.received_at < received_before)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def set_target(
    *, session: AsyncSession, person_id: int, task_id: int, expires_at: datetime
) -> UploadTarget:
    target = await session.get(UploadTarget, person_id)
    if target is None:
        target = UploadTarget(person_id=person_id, task_id=task_id, expires_at=expires_at)
        session.add(target)
    else:
        target.task_id = task_id
        target.expires_at = expires_at
    await session.flush()
    return target


async def active_target(*, session: AsyncSession, person_id: int, now: datetime) -> int | None:
    stmt = select(UploadTarget.task_id).where(
        UploadTarget.person_id == person_id, UploadTarget.expires_at > now
    )
    return (await session.execute(stmt)).scalar_one_or_none()


# The archive ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveTask:
    task_id: int
    title: str
    status: str
    indicator_code: str | None
    indicator_name: str | None
    unit_name: str
    owner_name: str | None


async def archive_tasks(
    *, session: AsyncSession, statuses: Collection[EvidenceStatus]
) -> list[ArchiveTask]:
    """Tasks carrying evidence, in archive order: indicator, unit, task."""
    with_files = (
        select(Evidence.task_id).where(Evidence.status.in_(list(statuses))).distinct().subquery()
    )
    owner = aliased(Person)
    stmt = (
        select(Task.id, Task.title, Task.status, Indicator.code, Indicator.name, Unit.name,
               owner.name)
        .join(with_files, with_files.c.task_id == Task.id)
        .join(Unit, Unit.id == Task.unit_id)
        .outerjoin(Indicator, Indicator.id == Task.indicator_id)
        .outerjoin(owner, owner.id == Task.owner_id)
        .order_by(Indicator.code.is_(None), Indicator.code, Unit.name, Task.id)
    )
    return [
        ArchiveTask(int(r[0]), r[1], str(r[2]), r[3], r[4], r[5], r[6])
        for r in (await session.execute(stmt)).all()
    ]


@dataclass(frozen=True)
class ArchiveFile:
    evidence_id: int
    file_name: str
    sha256: str
    size: int
    description: str
    uploaded_at: datetime
    exif_taken_at: datetime | None
    status: str
    reviewer_name: str | None
    review_note: str


async def archive_files(
    *, session: AsyncSession, task_id: int, statuses: Collection[EvidenceStatus]
) -> list[ArchiveFile]:
    reviewer = aliased(Person)
    stmt = (
        select(Evidence.id, Evidence.file_name, Evidence.sha256, Evidence.size,
               Evidence.description, Evidence.uploaded_at, Evidence.exif_taken_at,
               Evidence.status, reviewer.name, Evidence.review_note)
        .outerjoin(reviewer, reviewer.id == Evidence.reviewer_id)
        .where(Evidence.task_id == task_id, Evidence.status.in_(list(statuses)))
        .order_by(Evidence.id)
    )
    return [
        ArchiveFile(int(r[0]), r[1], r[2], int(r[3]), r[4], r[5], r[6], str(r[7]), r[8], r[9])
        for r in (await session.execute(stmt)).all()
    ]


async def campaign_start_inputs(
    *, session: AsyncSession, campaign_id: int
) -> tuple[datetime | None, list[date | None]]:
    """What decides when a campaign began: its creation time and its phases' first days."""
    created = (
        await session.execute(select(Campaign.created_at).where(Campaign.id == campaign_id))
    ).scalar_one_or_none()
    starts = (
        await session.execute(select(Phase.starts_on).where(Phase.campaign_id == campaign_id))
    ).scalars().all()
    return created, list(starts)


async def count_archive_files(
    *, session: AsyncSession, statuses: Collection[EvidenceStatus]
) -> int:
    stmt = select(func.count()).select_from(Evidence).where(Evidence.status.in_(list(statuses)))
    return int((await session.execute(stmt)).scalar_one())


@dataclass(frozen=True)
class StoredContent:
    """One distinct content the evidence table refers to, and the rows that do."""

    sha256: str
    size: int
    evidence_ids: tuple[int, ...]


async def stored_contents(*, session: AsyncSession) -> list[StoredContent]:
    """Every distinct SHA-256 of the evidence table, in hash order, with its rows' ids."""
    rows = (await session.execute(
        select(Evidence.sha256, Evidence.size, Evidence.id).order_by(Evidence.sha256, Evidence.id)
    )).all()
    sizes: dict[str, int] = {}
    ids: dict[str, list[int]] = {}
    for sha, size, evidence_id in rows:
        sizes.setdefault(sha, size)
        ids.setdefault(sha, []).append(evidence_id)
    return [StoredContent(sha, sizes[sha], tuple(ids[sha])) for sha in sizes]
