"""Uploads: received files become stored, hashed, recorded pieces of evidence of a task.

Every received file is first written to the inbox (so an album cut short by a restart,
or a file waiting for its sender to pick a task, survives); `process_batch` then checks
the batch, resolves its task and attaches each file (`bot.evidence.attach`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from bot.core.access import Actor, actor_for, require_task_update
from bot.core.errors import DomainError, InvalidInput, NotFound
from bot.core.paging import Page
from bot.core.xmltext import xml_safe
from bot.evidence import attach, rules
from bot.evidence.attach import PlannedFile
from bot.evidence.batch import (
    AttachedFile,
    BatchOutcome,
    DownloadFailed,
    Fetch,
    IncomingFile,
    SkippedFile,
)
from bot.evidence.exif import ExifInfo
from bot.evidence.store import EvidenceStore, StoredBlob
from bot.tasks import service as task_service
from db.models import EvidenceInbox, EvidenceKind, EvidenceStatus, Task, TaskStatus
from db.repositories import evidence as repo
from db.repositories import people as people_repo

log = logging.getLogger(__name__)

SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]

# Files nobody claimed within a day are forgotten (the sender has long moved on).
INBOX_TTL = timedelta(days=1)
CHOICES_SHOWN = 10


def _display_name(row: EvidenceInbox) -> str:
    if row.file_name:
        return row.file_name
    return f"photo_{row.message_id}.jpg" if row.kind is EvidenceKind.PHOTO else f"file_{row.message_id}"


async def campaign_start_of(session: AsyncSession, campaign_id: int, config: AppConfig) -> date:
    created, starts = await repo.campaign_start_inputs(session=session, campaign_id=campaign_id)
    if created is None:
        return date.min
    return rules.campaign_start(starts, created, config.zone)


class EvidenceService:
    """Upload handling with its dependencies: the database, the store, config and time."""

    def __init__(
        self,
        *,
        session: SessionFactory,
        store: EvidenceStore,
        config: AppConfig,
        now: Callable[[], datetime],
    ) -> None:
        self.session = session
        self.store = store
        self.config = config
        self._now = now

    async def receive(self, actor: Actor, file: IncomingFile) -> str:
        """Keep the file in the inbox at once; returns the batch it belongs to."""
        async with self.session() as session:
            await repo.add_inbox(
                session=session,
                row=EvidenceInbox(
                    person_id=actor.person_id, chat_id=file.chat_id, message_id=file.message_id,
                    batch_key=file.batch_key, media_group_id=file.media_group_id,
                    kind=file.kind, file_id=file.file_id, file_unique_id=file.file_unique_id,
                    # What a client sends is cleaned here, once: a control character in a
                    # file name or caption would break the archive's index for everyone.
                    file_name=xml_safe(file.file_name) if file.file_name else file.file_name,
                    mime_type=file.mime_type, size=file.size,
                    caption=xml_safe(file.caption) if file.caption else file.caption,
                    named_task_id=file.named_task_id,
                    received_at=self._now(),
                ),
            )
        return file.batch_key

    async def drop_batch(self, actor: Actor, row_id: int) -> int:
        """The sender cancels a waiting file (and the rest of its album)."""
        async with self.session() as session:
            row = await repo.get_inbox(session=session, row_id=row_id)
            if row is None or row.person_id != actor.person_id:
                raise NotFound("evidence.error.upload_gone")
            rows = await repo.inbox_batch(
                session=session, person_id=actor.person_id, batch_key=row.batch_key
            )
            await repo.delete_inbox(session=session, row_ids=[r.id for r in rows])
            return len(rows)

    async def batch_of_choice(self, actor: Actor, row_id: int) -> str:
        async with self.session() as session:
            row = await repo.get_inbox(session=session, row_id=row_id)
            if row is None or row.person_id != actor.person_id:
                raise NotFound("evidence.error.upload_gone")
            return row.batch_key

    async def choices(
        self, actor: Actor, row_id: int, offset: int
    ) -> tuple[list[tuple[int, str]], Page]:
        """Another page of the tasks a waiting file may go to (id, title)."""
        await self.batch_of_choice(actor, row_id)  # still waiting, and the sender's
        async with self.session() as session:
            tasks, page = await task_service.my_open_tasks(session, actor, offset=offset,
                                                           size=CHOICES_SHOWN)
            return [(t.id, t.title) for t in tasks], page

    async def open_upload_window(self, actor: Actor, task_id: int) -> Task:
        """The card's upload button: the sender's next files go to this task for a while."""
        now = self._now()
        async with self.session() as session:
            task = await _attachable_task(session, actor, task_id)
            await repo.set_target(
                session=session, person_id=actor.person_id, task_id=task.id,
                expires_at=now + timedelta(minutes=self.config.evidence.upload_window_minutes),
            )
        return task

    async def process_batch(
        self, person_id: int, batch_key: str, fetch: Fetch, *, chosen_task_id: int | None = None
    ) -> BatchOutcome | None:
        """Attach a batch to its task, or ask which task; None when there is nothing to do."""
        plan, outcome, task_id = await self._plan(person_id, batch_key, chosen_task_id)
        if outcome is None or task_id is None:
            return outcome
        downloaded: list[tuple[PlannedFile, StoredBlob, ExifInfo]] = []
        failed: list[int] = []
        later: list[PlannedFile] = []
        # Each file on its own: one that Telegram refuses, one that is no image, or one
        # that fails in a way nobody foresaw is answered for itself while the rest of the
        # album attaches; only a file Telegram may still hand over waits for a retry.
        for item in plan:
            try:
                blob, exif = await attach.download(
                    item, fetch, store=self.store, zone=self.config.zone
                )
            except DownloadFailed as exc:
                outcome.retry.append(SkippedFile(item.file_name, exc.message_id, exc.params))
                later.append(item)
                continue
            except DomainError as exc:  # DownloadRefused, ImageRefused
                outcome.skipped.append(SkippedFile(item.file_name, exc.message_id, exc.params))
                failed.append(item.row_id)
                continue
            except Exception:
                log.exception("evidence file %s of batch %s could not be stored",
                              item.row_id, batch_key)
                outcome.skipped.append(
                    SkippedFile(item.file_name, "evidence.refused.unreadable", {}))
                failed.append(item.row_id)
                continue
            downloaded.append((item, blob, exif))
        await self._record(person_id, task_id, downloaded, failed, later, outcome)
        return outcome

    async def _plan(
        self, person_id: int, batch_key: str, chosen_task_id: int | None
    ) -> tuple[list[PlannedFile], BatchOutcome | None, int | None]:
        now = self._now()
        async with self.session() as session:
            rows = list(
                await repo.inbox_batch(session=session, person_id=person_id, batch_key=batch_key)
            )
            if not rows or (chosen_task_id is None and any(r.asked_at for r in rows)):
                return [], None, None
            person = await people_repo.get_person(session=session, person_id=person_id)
            if person is None:
                return [], None, None
            actor = await actor_for(session=session, person=person)
            outcome = BatchOutcome(rows[0].chat_id, rows[0].message_id, actor.language)
            accepted: list[EvidenceInbox] = []
            for row in rows:
                refusal = rules.check_file(
                    self.config.evidence, kind=row.kind, file_name=row.file_name,
                    mime_type=row.mime_type, size=row.size,
                )
                if refusal is None:
                    accepted.append(row)
                else:
                    outcome.skipped.append(
                        SkippedFile(_display_name(row), refusal.text_id, refusal.params)
                    )
            await repo.delete_inbox(
                session=session, row_ids=[r.id for r in rows if r not in accepted]
            )
            if not accepted:
                return [], outcome, None
            task_id = (
                chosen_task_id
                or rules.first_named_task([r.named_task_id for r in accepted])
                or await repo.active_target(session=session, person_id=person_id, now=now)
            )
            if task_id is None:
                await self._ask(session, actor, accepted, outcome, now)
                return [], outcome, None
            try:
                task = await _attachable_task(session, actor, task_id)
            except DomainError as exc:
                # The sender resends with the right task; keeping the files would only
                # let them drift onto a task nobody meant.
                await repo.delete_inbox(session=session, row_ids=[r.id for r in accepted])
                outcome.error = exc
                return [], outcome, None
            outcome.task_id, outcome.task_title = task.id, task.title
            plan: list[PlannedFile] = []
            caption = next((r.caption for r in accepted if r.caption), "")
            for row in accepted:
                known = await repo.same_content_on_task(
                    session=session, task_id=task.id, file_unique_id=row.file_unique_id
                )
                if known is not None:
                    outcome.skipped.append(SkippedFile.duplicate(_display_name(row), known))
                    await repo.delete_inbox(session=session, row_ids=[row.id])
                    continue
                plan.append(
                    PlannedFile(
                        row.id, row.kind, row.file_id, row.file_unique_id, _display_name(row),
                        row.mime_type or ("image/jpeg" if row.kind is EvidenceKind.PHOTO else ""),
                        rules.description_from(row.caption or caption), row.chat_id,
                        row.message_id, row.media_group_id,
                    )
                )
            if not plan:
                await self._fill_counts(session, task, outcome)
                return [], outcome, None
            return plan, outcome, task.id

    async def _ask(
        self, session: AsyncSession, actor: Actor, rows: list[EvidenceInbox],
        outcome: BatchOutcome, now: datetime,
    ) -> None:
        tasks, page = await task_service.my_open_tasks(session, actor, size=CHOICES_SHOWN)
        if not tasks:
            await repo.delete_inbox(session=session, row_ids=[r.id for r in rows])
            outcome.error = InvalidInput("evidence.error.no_open_tasks")
            return
        for row in rows:
            row.asked_at = now
        outcome.choices = [(t.id, t.title) for t in tasks]
        outcome.choice_page = page
        outcome.choice_row_id = rows[0].id
        outcome.waiting = len(rows)

    async def _record(
        self,
        person_id: int,
        task_id: int,
        downloaded: list[tuple[PlannedFile, StoredBlob, ExifInfo]],
        failed: list[int],
        later: list[PlannedFile],
        outcome: BatchOutcome,
    ) -> None:
        now = self._now()
        async with self.session() as session:
            await self._keep_for_retry(session, later, outcome, now)
            task = await task_service.load_task(session, task_id)
            start = await campaign_start_of(session, task.campaign_id, self.config)
            outcome.campaign_start = start
            outcome.photo_hint = any(
                item.kind is EvidenceKind.PHOTO for item, _, _ in downloaded
            ) and not await repo.has_sent_photo(session=session, uploader_id=person_id)
            for item, blob, exif in downloaded:
                skipped = await attach.record(session, task, person_id, item, blob, exif, now)
                if isinstance(skipped, SkippedFile):
                    outcome.skipped.append(skipped)
                    continue
                outcome.attached.append(
                    AttachedFile(
                        skipped.id, item.file_name, exif,
                        rules.captured_before(exif.taken_at, start, self.config.zone),
                        await repo.tasks_with_content(
                            session=session, sha256=blob.sha256, exclude_task_id=task.id
                        ),
                    )
                )
            await repo.delete_inbox(
                session=session, row_ids=[item.row_id for item, _, _ in downloaded] + failed
            )
            await self._fill_counts(session, task, outcome)

    async def _keep_for_retry(
        self, session: AsyncSession, later: list[PlannedFile], outcome: BatchOutcome,
        now: datetime,
    ) -> None:
        """Files to try again on the sender's press: answered (so a restart does not try
        them behind the sender's back), and carrying the album's description."""
        for item in later:
            row = await repo.get_inbox(session=session, row_id=item.row_id)
            if row is None:
                continue
            row.asked_at = now
            if not row.caption:
                row.caption = item.description
            if outcome.retry_row_id is None:
                outcome.retry_row_id = row.id

    async def _fill_counts(self, session: AsyncSession, task: Task, outcome: BatchOutcome) -> None:
        counts = await repo.status_counts(session=session, task_id=task.id)
        outcome.approved = counts[EvidenceStatus.APPROVED]
        outcome.pending = counts[EvidenceStatus.PENDING]
        outcome.required = task.evidence_required
        outcome.submitted = task.status is TaskStatus.SUBMITTED

    async def leftover_batches(self) -> list[tuple[int, str]]:
        """After a restart: forget stale files, and list batches still to be answered."""
        async with self.session() as session:
            await repo.purge_inbox(session=session, received_before=self._now() - INBOX_TTL)
            return await repo.unasked_batches(session=session)


async def _attachable_task(session: AsyncSession, actor: Actor, task_id: int) -> Task:
    """Only the owner, the unit's leader and the office attach, and only to open tasks."""
    task = await task_service.load_task(session, task_id)
    require_task_update(actor, task)
    if not task.status.is_open:
        raise InvalidInput("evidence.error.task_closed", task_id=task.id)
    return task
