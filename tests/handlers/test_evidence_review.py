"""Submitting, reviewing and viewing evidence from Telegram; done is blocked until approved."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from db.models import (
    Campaign,
    Evidence,
    EvidenceStatus,
    OutboxMessage,
    Person,
    Role,
    Task,
    TaskEvent,
    TaskStatus,
    Unit,
)
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f
from tests.utils.evidence_files import jpeg

ZHANG, WANG, ZHAO, ADMIN = 5552001, 5552002, 5552003, 5552009


async def _seed(h: BotHarness, *, required: int = 2) -> int:
    async with h.services.session() as s:
        c = await f.campaign(s)
        await f.phase(s, c, "整改", starts=date(2026, 9, 1))
        edu = await f.unit(s, "县教育局")
        other = await f.unit(s, "县财政局")
        zhang = await f.person(s, "张三", unit=edu, telegram_id=ZHANG)
        wang = await f.person(s, "王局长", unit=edu, telegram_id=WANG)
        zhao = await f.person(s, "赵局长", unit=other, telegram_id=ZHAO)
        await f.person(s, "迎检办", role=Role.ADMIN, telegram_id=ADMIN)
        edu.leader_id, other.leader_id = wang.id, zhao.id
        task = await f.task(s, c, unit=edu, owner=zhang, title="功能室标识标牌",
                            due_at=DEFAULT_NOW + timedelta(days=4), evidence_required=required)
        return task.id


async def _upload(h: BotHarness, task_id: int, n: int, **exif: object) -> None:
    file_id = f"f{task_id}-{n}"
    h.request.files[file_id] = jpeg(color=(40 * n, 90, 20), **exif)  # type: ignore[arg-type]
    await h.process(h.updates.document(h.updates.user(ZHANG), file_id, f"标牌{n}.jpg",
                                       "image/jpeg", caption=f"#{task_id} 第{n}张"))


async def _task(h: BotHarness, task_id: int) -> Task:
    async with h.services.session() as s:
        task = await s.get(Task, task_id)
        assert task is not None
        return task


async def _outbox_to(h: BotHarness, chat_id: int) -> list[str]:
    async with h.services.session() as s:
        rows = await s.execute(select(OutboxMessage.text).where(OutboxMessage.chat_id == chat_id))
        return list(rows.scalars().all())


async def test_done_is_blocked_without_approved_evidence(harness: BotHarness) -> None:
    task_id = await _seed(harness)
    zhang = harness.updates.user(ZHANG)

    await harness.process(harness.updates.text(zhang, f"/done {task_id}"))
    assert "需要 2 份审核通过的佐证材料，目前只有 0 份" in harness.request.last_text()
    await harness.process(harness.updates.text(zhang, f"/submit {task_id}"))
    assert "至少需要 2 份佐证材料，目前有 0 份" in harness.request.last_text()

    await _upload(harness, task_id, 1)
    await _upload(harness, task_id, 2)
    await harness.process(harness.updates.text(zhang, f"/done {task_id}"))
    assert "目前只有 0 份" in harness.request.last_text()
    assert (await _task(harness, task_id)).status is TaskStatus.TODO


async def test_submit_review_reject_and_approve_closes_task(harness: BotHarness) -> None:
    task_id = await _seed(harness)
    u = harness.updates
    await _upload(harness, task_id, 1, taken=datetime(2026, 11, 18, 15, 30), gps=(26.08, 119.3))
    await _upload(harness, task_id, 2, taken=datetime(2025, 4, 1, 8, 0))

    await harness.process(u.callback(u.user(ZHANG), f"ev:sub:{task_id}"))
    assert "已提交审核" in harness.request.last_text()
    assert (await _task(harness, task_id)).status is TaskStatus.SUBMITTED
    assert any("/review" in text for text in await _outbox_to(harness, WANG))

    # The other unit's leader has nothing to review here.
    await harness.process(u.text(u.user(ZHAO), "/review"))
    assert "没有待您审核" in harness.request.last_text()
    harness.request.clear()

    wang = u.user(WANG)
    await harness.process(u.text(wang, "/review"))
    card = harness.request.sent("sendDocument")[-1]
    assert card.params["document"] == f"f{task_id}-1"
    assert "2026-11-18 15:30" in card.text and "26.08, 119.3" in card.text
    assert "待审核共 2 份" in card.text
    await harness.process(u.callback(wang, "ev:ok:1"))
    second = harness.request.sent("sendDocument")[-1]
    assert "E2" in second.text and "早于迎检工作开始" in second.text

    await harness.process(u.callback(wang, "ev:no:2"))
    prompt = harness.request.sent("sendMessage")[-1]
    assert prompt.text.startswith("❌") and "E2" in prompt.text and "#" not in prompt.text
    await harness.process(u.reply(wang, "照片是去年的，请重新拍摄", to_text=prompt.text))
    assert "没有待您审核" in harness.request.last_text()

    task = await _task(harness, task_id)
    assert task.status is TaskStatus.IN_PROGRESS
    [notice] = [t for t in await _outbox_to(harness, ZHANG) if "未通过审核" in t]
    assert "照片是去年的，请重新拍摄" in notice and "王局长" in notice

    await _upload(harness, task_id, 3)
    await harness.process(u.text(u.user(ZHANG), f"/submit {task_id}"))
    await harness.process(u.text(wang, "/review"))
    await harness.process(u.callback(wang, "ev:ok:3"))
    task = await _task(harness, task_id)
    assert task.status is TaskStatus.DONE and task.progress == 100
    assert any("已全部审核通过" in t for t in await _outbox_to(harness, ZHANG))

    async with harness.services.session() as s:
        events = (await s.execute(select(TaskEvent.kind, TaskEvent.new_value)
                                  .where(TaskEvent.task_id == task_id)
                                  .order_by(TaskEvent.id))).all()
        statuses = {e.id: e.status for e in (await s.execute(select(Evidence))).scalars()}
    assert [k for k, _ in events] == [
        "evidence", "evidence", "status", "evidence_review", "evidence_review", "status",
        "evidence", "status", "evidence_review", "status",
    ]
    assert [v for k, v in events if k == "status"] == [
        "submitted", "in_progress", "submitted", "done"]
    assert statuses == {1: EvidenceStatus.APPROVED, 2: EvidenceStatus.REJECTED,
                        3: EvidenceStatus.APPROVED}


async def test_uploader_cannot_review_own_file_and_strangers_cannot_review(
    harness: BotHarness,
) -> None:
    task_id = await _seed(harness, required=1)
    u = harness.updates
    # The unit leader does not upload for the owner (leaders do not change a colleague's
    # task, issue 13), but uploads for a task of their own, then tries to approve it.
    harness.request.files["lead"] = jpeg(color=(5, 5, 200))
    await harness.process(u.document(u.user(WANG), "lead", "x.jpg", "image/jpeg",
                                     caption=f"#{task_id}"))
    assert "不在您的职责范围内" in harness.request.last_text()
    async with harness.services.session() as s:
        own = await s.get(Task, task_id)
        assert own is not None
        wang = (await s.execute(select(Person).where(Person.telegram_id == WANG))).scalar_one()
        campaign = await s.get(Campaign, own.campaign_id)
        assert campaign is not None
        unit = await s.get(Unit, own.unit_id)
        assert unit is not None
        wang_task = await f.task(s, campaign, unit=unit, owner=wang, title="局长本人任务",
                                 evidence_required=1)
    await harness.process(u.document(u.user(WANG), "lead", "x.jpg", "image/jpeg",
                                     caption=f"#{wang_task.id}"))
    await harness.process(u.callback(u.user(WANG), "ev:ok:1"))
    assert "不能审核自己上传的材料" in harness.request.sent("answerCallbackQuery")[-1].params["text"]
    await harness.process(u.callback(u.user(ZHAO), "ev:ok:1"))
    assert "只有迎检办和本单位负责人" in harness.request.sent("answerCallbackQuery")[-1].params["text"]
    await harness.process(u.callback(u.user(ZHANG), "ev:ok:1"))
    async with harness.services.session() as s:
        [item] = (await s.execute(select(Evidence))).scalars().all()
        assert item.status is EvidenceStatus.PENDING

    await harness.process(u.callback(u.user(ADMIN), "ev:ok:1"))
    async with harness.services.session() as s:
        assert (await s.get(Evidence, 1)).status is EvidenceStatus.APPROVED  # type: ignore[union-attr]


async def test_leaders_see_a_tasks_evidence_as_albums(harness: BotHarness) -> None:
    task_id = await _seed(harness)
    for n in range(1, 4):
        await _upload(harness, task_id, n)
    harness.request.files["p"] = jpeg(color=(1, 200, 1))
    await harness.process(harness.updates.photo(harness.updates.user(ZHANG), "p", f"#{task_id}"))
    harness.request.clear()

    await harness.process(harness.updates.text(harness.updates.user(WANG), f"/evidence {task_id}"))

    assert "共 4 份" in harness.request.sent("sendMessage")[0].text
    [single] = harness.request.sent("sendPhoto")
    [album] = harness.request.sent("sendMediaGroup")
    assert single.params["photo"] == "p"
    assert "E4" in single.text and "待审核" in single.text
    media = album.params["media"]
    assert [m["media"] for m in media] == [f"f{task_id}-{n}" for n in range(1, 4)]
    assert all(m["type"] == "document" for m in media)

    await harness.process(harness.updates.text(harness.updates.user(ZHAO), f"/evidence {task_id}"))
    assert "不在您的职责范围内" in harness.request.last_text()
