"""What a responsible person and the office can do to a task; every change is recorded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.access import Actor, require_admin, require_task_update, require_task_view
from bot.core.errors import AlreadyDone, InvalidInput, NotFound
from bot.core.events import record_change
from bot.core.paging import Page
from bot.core.parsing import fold, parse_id, shown
from bot.core.xmltext import xml_safe
from bot.evidence.rules import evidence_needed, missing_approved
from bot.texts import Label
from db.models import EvidenceStatus, Person, Task, TaskStatus
from db.repositories import evidence as evidence_repo
from db.repositories import people as people_repo
from db.repositories import tasks as tasks_repo

NOTE_MAX = 1000

# Which status moves a person may make by hand; "submitted" only through `submit`, which
# checks the evidence first.
_ALLOWED_FROM: dict[TaskStatus, tuple[TaskStatus, ...]] = {
    TaskStatus.SUBMITTED: (TaskStatus.TODO, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED),
    TaskStatus.IN_PROGRESS: (TaskStatus.TODO, TaskStatus.BLOCKED, TaskStatus.SUBMITTED),
    TaskStatus.BLOCKED: (TaskStatus.TODO, TaskStatus.IN_PROGRESS, TaskStatus.SUBMITTED),
    TaskStatus.DONE: (
        TaskStatus.TODO,
        TaskStatus.IN_PROGRESS,
        TaskStatus.BLOCKED,
        TaskStatus.SUBMITTED,
    ),
}


async def record_event(
    session: AsyncSession,
    task: Task,
    *,
    actor_id: int | None,
    at: datetime,
    kind: str,
    old: str | None = None,
    new: str | None = None,
    note: str = "",
) -> None:
    await tasks_repo.add_event(
        session=session,
        task_id=task.id,
        actor_id=actor_id,
        at=at,
        kind=kind,
        old_value=old,
        new_value=new,
        note=note,
    )
    task.updated_at = at
    record_change(session, task.id, kind)


def _clean_note(text: str) -> str:
    note = xml_safe(text).strip()
    if len(note) > NOTE_MAX:
        raise InvalidInput("error.note_too_long", limit=NOTE_MAX)
    return note


async def load_task(session: AsyncSession, task_id: int, *, for_update: bool = False) -> Task:
    """The task; `for_update` first takes its row for this unit of work, so a change made
    at the same moment (a double press, "done" and "50 %" together) waits for this one and
    then sees its result instead of writing over it."""
    if for_update:
        await tasks_repo.lock_task(session=session, task_id=task_id)
    task = await tasks_repo.get_task(session=session, task_id=task_id, fresh=for_update)
    if task is None:
        raise NotFound("error.task_not_found", task_id=task_id)
    return task


async def view_task(session: AsyncSession, actor: Actor, task_id: int) -> Task:
    task = await load_task(session, task_id)
    require_task_view(actor, task)
    return task


async def my_open_tasks(
    session: AsyncSession, actor: Actor, *, offset: int = 0, size: int = 10
) -> tuple[Sequence[Task], Page]:
    """A page of the person's open tasks by deadline (the last page if the list shrank)."""
    total = await tasks_repo.count_open_tasks_of(session=session, owner_id=actor.person_id)
    page = Page.at(offset, size, total)
    tasks = await tasks_repo.open_tasks_of(session=session, owner_id=actor.person_id,
                                           limit=page.size, offset=page.offset)
    return tasks, page


async def _set_status(
    session: AsyncSession, actor: Actor, task: Task, status: TaskStatus, now: datetime, note: str
) -> None:
    if task.status is status:
        raise AlreadyDone("error.status_unchanged", task_id=task.id,
                          status=Label(f"status.{status.value}"))
    if task.status not in _ALLOWED_FROM.get(status, ()):
        raise InvalidInput("error.status_move", task_id=task.id,
                           status=Label(f"status.{task.status.value}"))
    old = task.status
    task.status = status
    task.done_at = now if status is TaskStatus.DONE else None
    if status is TaskStatus.DONE:
        task.progress = 100
    await record_event(
        session, task, actor_id=actor.person_id, at=now, kind="status",
        old=old.value, new=status.value, note=note,
    )


async def start(session: AsyncSession, actor: Actor, task_id: int, now: datetime) -> Task:
    task = await load_task(session, task_id, for_update=True)
    require_task_update(actor, task)
    await _set_status(session, actor, task, TaskStatus.IN_PROGRESS, now, "")
    return task


async def set_progress(
    session: AsyncSession, actor: Actor, task_id: int, percent: int, now: datetime, note: str = ""
) -> Task:
    if not 0 <= percent <= 100:
        raise InvalidInput("error.progress_range")
    task = await load_task(session, task_id, for_update=True)
    require_task_update(actor, task)
    if task.status is TaskStatus.DONE:
        raise InvalidInput("error.task_done", task_id=task.id)
    if not task.status.is_open:
        raise InvalidInput("error.task_closed", task_id=task.id)
    note = _clean_note(note)
    if task.status is TaskStatus.TODO and percent > 0:
        await _set_status(session, actor, task, TaskStatus.IN_PROGRESS, now, "")
    old = task.progress
    task.progress = percent
    await record_event(
        session, task, actor_id=actor.person_id, at=now, kind="progress",
        old=str(old), new=str(percent), note=note,
    )
    return task


async def complete(
    session: AsyncSession, actor: Actor, task_id: int, now: datetime, note: str = ""
) -> Task:
    task = await load_task(session, task_id, for_update=True)
    require_task_update(actor, task)
    if task.evidence_required > 0:
        counts = await evidence_repo.status_counts(session=session, task_id=task.id)
        approved = counts[EvidenceStatus.APPROVED]
        if missing_approved(task.evidence_required, approved):
            raise InvalidInput(
                "evidence.error.need_approved", task_id=task.id,
                need=task.evidence_required, have=approved,
            )
    await _set_status(session, actor, task, TaskStatus.DONE, now, _clean_note(note))
    return task


async def close_reviewed(session: AsyncSession, actor: Actor, task: Task, now: datetime) -> None:
    """The last approval of a submitted task closes it. The review decides, so the
    reviewer (a unit's leader, who does not change tasks otherwise) need not own it."""
    await _set_status(session, actor, task, TaskStatus.DONE, now, "")


async def reopen_rejected(session: AsyncSession, actor: Actor, task: Task, now: datetime) -> None:
    """A rejection sends a submitted task back to work, by the reviewer's decision."""
    await _set_status(session, actor, task, TaskStatus.IN_PROGRESS, now, "")


async def submit(
    session: AsyncSession, actor: Actor, task_id: int, now: datetime, note: str = ""
) -> Task:
    """The owner sends the task for review once its evidence is uploaded; an old button
    pressed again finds it submitted (or closed) already and says so."""
    task = await load_task(session, task_id, for_update=True)
    require_task_update(actor, task)
    if task.status is TaskStatus.SUBMITTED:
        raise AlreadyDone("evidence.submit.already", task_id=task.id)
    if not task.status.is_open:
        raise AlreadyDone("evidence.submit.closed", task_id=task.id,
                          status=Label(f"status.{task.status.value}"))
    counts = await evidence_repo.status_counts(session=session, task_id=task.id)
    have = counts[EvidenceStatus.APPROVED] + counts[EvidenceStatus.PENDING]
    need = evidence_needed(task.evidence_required)
    if have < need:
        raise InvalidInput("evidence.error.submit_needs", task_id=task.id, need=need, have=have)
    await _set_status(session, actor, task, TaskStatus.SUBMITTED, now, _clean_note(note))
    return task


async def block(
    session: AsyncSession, actor: Actor, task_id: int, reason: str, now: datetime
) -> Task:
    reason = _clean_note(reason)
    if not reason:
        raise InvalidInput("error.block_reason_required")
    task = await load_task(session, task_id, for_update=True)
    require_task_update(actor, task)
    await _set_status(session, actor, task, TaskStatus.BLOCKED, now, reason)
    return task


async def add_note(
    session: AsyncSession, actor: Actor, task_id: int, text: str, now: datetime
) -> Task:
    note = _clean_note(text)
    if not note:
        raise InvalidInput("error.note_empty")
    task = await load_task(session, task_id, for_update=True)
    require_task_update(actor, task)
    await record_event(session, task, actor_id=actor.person_id, at=now, kind="note", note=note)
    return task


async def reassign(
    session: AsyncSession, actor: Actor, task_id: int, owner: Person, now: datetime
) -> Task:
    require_admin(actor)
    task = await load_task(session, task_id, for_update=True)
    if task.owner_id == owner.id:
        raise InvalidInput("error.same_owner", name=owner.name)
    old = task.owner.name if task.owner else ""
    task.owner_id = owner.id
    task.owner = owner
    await record_event(
        session, task, actor_id=actor.person_id, at=now, kind="owner", old=old, new=owner.name
    )
    return task


async def move_deadline(
    session: AsyncSession, actor: Actor, task_id: int, due_at: datetime, now: datetime
) -> Task:
    require_admin(actor)
    task = await load_task(session, task_id, for_update=True)
    old = task.due_at.isoformat() if task.due_at else ""
    task.due_at = due_at
    await record_event(
        session, task, actor_id=actor.person_id, at=now, kind="deadline",
        old=old, new=due_at.isoformat(),
    )
    return task


async def cancel(
    session: AsyncSession, actor: Actor, task_id: int, reason: str, now: datetime
) -> Task:
    require_admin(actor)
    task = await load_task(session, task_id, for_update=True)
    if task.status is TaskStatus.CANCELLED:
        raise AlreadyDone("error.status_unchanged", task_id=task.id,
                          status=Label("status.cancelled"))
    old = task.status
    task.status = TaskStatus.CANCELLED
    await record_event(
        session, task, actor_id=actor.person_id, at=now, kind="status",
        old=old.value, new=TaskStatus.CANCELLED.value, note=_clean_note(reason),
    )
    return task


async def find_person(session: AsyncSession, query: str) -> Person:
    """A person by id (`#12` or `12`) or by exact name; a name shared by two is refused."""
    query = query.strip().lstrip("#")
    if fold(query).isdigit():
        # A number is an id, also when it is out of range (then no one has it).
        person_id = parse_id(query)
        person = (None if person_id is None
                  else await people_repo.get_person(session=session, person_id=person_id))
        if person is None:
            raise NotFound("error.person_not_found", query=shown(query))
        return person
    found = await people_repo.persons_named(session=session, name=query)
    if not found:
        raise NotFound("error.person_not_found", query=query)
    if len(found) > 1:
        raise InvalidInput(
            "error.person_ambiguous", query=query, ids=", ".join(f"#{p.id}" for p in found)
        )
    return found[0]
