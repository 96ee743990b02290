"""Reviewing evidence: who may, the queue, and what a decision does to the task.

Reviewers are the office (admins) and the leader of the task's unit (or of a unit above
it). Nobody but the office reviews a file they uploaded themselves. A rejection sends a
submitted task back to work; the last approval of a submitted task that meets its quota
closes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.access import Actor, require_task_view
from bot.core.errors import AlreadyDone, InvalidInput, NotFound, PermissionDenied
from bot.core.xmltext import xml_safe
from bot.evidence import rules
from bot.tasks import service as task_service
from bot.texts import Label
from db.models import Evidence, EvidenceStatus, Role, Task, TaskStatus
from db.repositories import evidence as repo
from db.repositories import people as people_repo

REASON_MAX = 500


def can_review(actor: Actor, task: Task) -> bool:
    return actor.is_admin or task.unit_id in actor.led_unit_ids


def review_scope(actor: Actor) -> frozenset[int] | None:
    """The units whose evidence this person reviews; None means every unit."""
    if actor.is_admin:
        return None
    if not actor.led_unit_ids:
        raise PermissionDenied("evidence.error.not_reviewer")
    return actor.led_unit_ids


@dataclass(frozen=True)
class QueueItem:
    evidence: Evidence | None
    remaining: int


async def next_for_review(session: AsyncSession, actor: Actor, after_id: int = 0) -> QueueItem:
    scope = review_scope(actor)
    own = None if actor.is_admin else actor.person_id
    item = await repo.next_pending(
        session=session, unit_ids=scope, after_id=after_id, exclude_uploader=own
    )
    if item is None and after_id:
        # Past the end of the queue: start again from the oldest skipped file.
        item = await repo.next_pending(session=session, unit_ids=scope, exclude_uploader=own)
    remaining = await repo.count_pending(session=session, unit_ids=scope, exclude_uploader=own)
    return QueueItem(item, remaining)


@dataclass(frozen=True)
class Decision:
    evidence: Evidence
    task: Task
    approved: bool
    # The task went back to work (rejection) or was closed (last approval).
    reopened: bool
    closed: bool


async def _reviewable(session: AsyncSession, actor: Actor, evidence_id: int) -> Evidence:
    evidence = await repo.get_evidence(session=session, evidence_id=evidence_id)
    if evidence is None:
        raise NotFound("evidence.error.not_found", evidence_id=evidence_id)
    # Two reviewers (or a reviewer and the owner) at the same moment: the task's row says
    # who goes first, and the second reads the piece's decision again to see the first's.
    await task_service.load_task(session, evidence.task_id, for_update=True)
    await session.refresh(evidence, ["status", "reviewer_id", "reviewed_at", "review_note"])
    if not can_review(actor, evidence.task):
        raise PermissionDenied("evidence.error.not_reviewer")
    if not actor.is_admin and evidence.uploader_id == actor.person_id:
        raise PermissionDenied("evidence.error.own_upload")
    if evidence.status is not EvidenceStatus.PENDING:
        raise AlreadyDone("evidence.error.already_reviewed", evidence_id=evidence.id,
                          status=Label(f"evidence.status.{evidence.status.value}"))
    return evidence


async def approve(session: AsyncSession, actor: Actor, evidence_id: int, now: datetime) -> Decision:
    evidence = await _reviewable(session, actor, evidence_id)
    task = evidence.task
    _decide(evidence, actor, EvidenceStatus.APPROVED, "", now)
    await task_service.record_event(
        session, task, actor_id=actor.person_id, at=now, kind="evidence_review",
        old=EvidenceStatus.PENDING.value, new=f"E{evidence.id} {EvidenceStatus.APPROVED.value}",
    )
    await session.flush()
    closed = False
    if task.status is TaskStatus.SUBMITTED:
        counts = await repo.status_counts(session=session, task_id=task.id)
        if rules.ready_to_close(
            task.evidence_required, counts[EvidenceStatus.APPROVED], counts[EvidenceStatus.PENDING]
        ):
            await task_service.close_reviewed(session, actor, task, now)
            closed = True
    return Decision(evidence, task, True, reopened=False, closed=closed)


async def reject(
    session: AsyncSession, actor: Actor, evidence_id: int, reason: str, now: datetime
) -> Decision:
    reason = xml_safe(reason).strip()
    if not reason:
        raise InvalidInput("evidence.error.reason_required")
    if len(reason) > REASON_MAX:
        raise InvalidInput("error.note_too_long", limit=REASON_MAX)
    evidence = await _reviewable(session, actor, evidence_id)
    task = evidence.task
    _decide(evidence, actor, EvidenceStatus.REJECTED, reason, now)
    await task_service.record_event(
        session, task, actor_id=actor.person_id, at=now, kind="evidence_review",
        old=EvidenceStatus.PENDING.value, new=f"E{evidence.id} {EvidenceStatus.REJECTED.value}",
        note=reason,
    )
    reopened = False
    if task.status is TaskStatus.SUBMITTED:
        await task_service.reopen_rejected(session, actor, task, now)
        reopened = True
    return Decision(evidence, task, False, reopened=reopened, closed=False)


def _decide(
    evidence: Evidence, actor: Actor, status: EvidenceStatus, note: str, now: datetime
) -> None:
    evidence.status = status
    evidence.reviewer_id = actor.person_id
    evidence.reviewed_at = now
    evidence.review_note = note


async def task_evidence(
    session: AsyncSession, actor: Actor, task_id: int
) -> tuple[Task, Sequence[Evidence]]:
    """A task's evidence for viewing: whoever may see the task may see its files."""
    task = await task_service.load_task(session, task_id)
    require_task_view(actor, task)
    return task, await repo.evidence_of_task(session=session, task_id=task.id)


async def evidence_counts(session: AsyncSession, task_id: int) -> int:
    """Pieces still standing (approved or waiting) on a task."""
    counts = await repo.status_counts(session=session, task_id=task_id)
    return counts[EvidenceStatus.APPROVED] + counts[EvidenceStatus.PENDING]


async def reviewers_to_tell(session: AsyncSession, task: Task) -> list[tuple[int, int, str]]:
    """Who hears of a submission: the unit's leader if linked, else the office.

    As (person id, Telegram chat id, language); the owner never notifies themselves.
    """
    leader_id = task.unit.leader_id if task.unit is not None else None
    if leader_id is not None and leader_id != task.owner_id:
        leader = await people_repo.get_person(session=session, person_id=leader_id)
        if leader is not None and leader.is_active and leader.telegram_id:
            return [(leader.id, leader.telegram_id, leader.language)]
    office = await people_repo.persons_with_role(session=session, roles=(Role.ADMIN,))
    return [
        (p.id, p.telegram_id, p.language)
        for p in office
        if p.telegram_id and p.id != task.owner_id
    ]


async def approved_count(session: AsyncSession, task_id: int) -> int:
    return (await repo.status_counts(session=session, task_id=task_id))[EvidenceStatus.APPROVED]
