"""Evidence queries on a real database: the review queue, counts, inbox and upload targets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from bot.services import Services
from db.models import Evidence, EvidenceInbox, EvidenceKind, EvidenceStatus, Task
from db.repositories import evidence as repo
from tests.conftest import DEFAULT_NOW
from tests.utils import factories as f


def _evidence(task: Task, uploader_id: int, n: int, status: EvidenceStatus) -> Evidence:
    return Evidence(
        task_id=task.id, uploader_id=uploader_id, kind=EvidenceKind.PHOTO, file_id=f"f{n}",
        file_unique_id=f"u{n}", file_name=f"{n}.jpg", mime_type="image/jpeg", size=10,
        sha256=f"{n:064x}", description="", chat_id=1, message_id=n,
        uploaded_at=DEFAULT_NOW + timedelta(minutes=n), status=status,
    )


async def test_review_queue_by_unit_and_uploader(services: Services) -> None:
    async with services.session() as s:
        c = await f.campaign(s)
        edu, fin = await f.unit(s, "教育局"), await f.unit(s, "财政局")
        owner = await f.person(s, unit=edu)
        leader = await f.person(s, unit=edu)
        t_edu = await f.task(s, c, unit=edu, owner=owner)
        t_fin = await f.task(s, c, unit=fin, owner=owner)
        for n, (task, who, status) in enumerate([
            (t_edu, owner, EvidenceStatus.PENDING), (t_fin, owner, EvidenceStatus.PENDING),
            (t_edu, leader, EvidenceStatus.PENDING), (t_edu, owner, EvidenceStatus.APPROVED),
            (t_edu, owner, EvidenceStatus.PENDING),
        ], start=1):
            await repo.add_evidence(session=s, evidence=_evidence(task, who.id, n, status))

    async with services.session() as s:
        first = await repo.next_pending(session=s, unit_ids={edu.id}, exclude_uploader=leader.id)
        assert first is not None and first.id == 1 and first.task.unit.name == "教育局"
        after = await repo.next_pending(session=s, unit_ids={edu.id}, after_id=1,
                                        exclude_uploader=leader.id)
        assert after is not None and after.id == 5
        assert await repo.count_pending(session=s, unit_ids={edu.id}) == 3
        assert await repo.count_pending(session=s, unit_ids={edu.id},
                                        exclude_uploader=leader.id) == 2
        assert await repo.count_pending(session=s, unit_ids=None) == 4
        counts = await repo.status_counts(session=s, task_id=t_edu.id)
        assert counts == {EvidenceStatus.PENDING: 3, EvidenceStatus.APPROVED: 1,
                          EvidenceStatus.REJECTED: 0}
        assert await repo.tasks_with_content(session=s, sha256=f"{2:064x}",
                                             exclude_task_id=t_edu.id) == [t_fin.id]
        assert await repo.has_sent_photo(session=s, uploader_id=leader.id)


async def test_same_content_twice_on_one_task_is_refused_by_the_schema(
    services: Services,
) -> None:
    async with services.session() as s:
        c = await f.campaign(s)
        unit = await f.unit(s)
        owner = await f.person(s, unit=unit)
        task = await f.task(s, c, unit=unit, owner=owner)
        await repo.add_evidence(session=s, evidence=_evidence(task, owner.id, 1,
                                                              EvidenceStatus.PENDING))
        found = await repo.same_content_on_task(session=s, task_id=task.id, file_unique_id="u1")
        assert found is not None
        with pytest.raises(IntegrityError):
            async with s.begin_nested():
                await repo.add_evidence(session=s, evidence=_evidence(task, owner.id, 1,
                                                                      EvidenceStatus.PENDING))


async def test_inbox_batches_and_upload_targets(services: Services) -> None:
    now = DEFAULT_NOW
    async with services.session() as s:
        c = await f.campaign(s)
        unit = await f.unit(s)
        person = await f.person(s, unit=unit)
        task = await f.task(s, c, unit=unit, owner=person)
        for n, (batch, received) in enumerate(
            [("g1", now), ("g1", now), ("m1:9", now - timedelta(days=2))]
        ):
            await repo.add_inbox(session=s, row=EvidenceInbox(
                person_id=person.id, chat_id=1, message_id=10 - n, batch_key=batch,
                kind=EvidenceKind.PHOTO, file_id=f"f{n}", file_unique_id=f"u{n}",
                received_at=received,
            ))
        await repo.set_target(session=s, person_id=person.id, task_id=task.id,
                              expires_at=now + timedelta(minutes=10))

    async with services.session() as s:
        items = await repo.inbox_batch(session=s, person_id=person.id, batch_key="g1")
        assert [r.message_id for r in items] == [9, 10]  # in the order they were sent
        assert sorted(await repo.unasked_batches(session=s)) == [
            (person.id, "g1"), (person.id, "m1:9")]
        assert await repo.purge_inbox(session=s, received_before=now - timedelta(days=1)) == 1
        assert await repo.active_target(session=s, person_id=person.id, now=now) == task.id
        later = now + timedelta(minutes=11)
        assert await repo.active_target(session=s, person_id=person.id, now=later) is None
        await repo.set_target(session=s, person_id=person.id, task_id=task.id,
                              expires_at=later + timedelta(minutes=10))
        assert await repo.active_target(session=s, person_id=person.id, now=later) == task.id
