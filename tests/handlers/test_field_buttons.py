"""Issue 13: old buttons and second presses answer what happened, once, in words.

An old "提交审核" button gave no feedback (the press was answered empty before the task
was found submitted already, so the refusal could not be shown); a reviewer's second
press showed the raw status "（approved）"."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Campaign,
    Evidence,
    EvidenceKind,
    EvidenceStatus,
    Person,
    Role,
    Task,
    TaskStatus,
    Unit,
)
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f
from tests.utils.telegram import SentCall

OWNER, ADMIN = 6400001, 6400002


async def _evidence(s: AsyncSession, task: Task, uploader: Person, n: int,
                    status: EvidenceStatus = EvidenceStatus.PENDING) -> Evidence:
    item = Evidence(
        task_id=task.id, uploader_id=uploader.id, kind=EvidenceKind.PHOTO, file_id=f"p{n}",
        file_unique_id=f"u{n}", file_name="", mime_type="image/jpeg", size=10,
        sha256=f"{n:064d}", chat_id=OWNER, message_id=n, uploaded_at=DEFAULT_NOW,
        status=status,
    )
    s.add(item)
    await s.flush()
    return item


async def _world(h: BotHarness, status: TaskStatus) -> tuple[int, int]:
    async with h.services.session() as s:
        c: Campaign = await f.campaign(s)
        unit: Unit = await f.unit(s, "县教育局")
        owner = await f.person(s, "张三", unit=unit, telegram_id=OWNER)
        await f.person(s, "王主任", role=Role.ADMIN, telegram_id=ADMIN)
        task = await f.task(s, c, unit=unit, owner=owner, status=status, evidence_required=1,
                            due_at=DEFAULT_NOW + timedelta(days=5))
        evidence = await _evidence(s, task, owner, task.id)
        return task.id, evidence.id


def _answers(h: BotHarness) -> list[SentCall]:
    return h.request.sent("answerCallbackQuery")


async def test_an_old_submit_button_says_the_task_is_submitted(harness: BotHarness) -> None:
    task_id, _ = await _world(harness, TaskStatus.SUBMITTED)
    await harness.process(harness.updates.callback(harness.updates.user(OWNER),
                                                   f"ev:sub:{task_id}"))
    answers = _answers(harness)
    assert [a.params.get("text") for a in answers] == [f"任务 #{task_id} 已提交，正在等待审核。"]
    assert not answers[0].params.get("show_alert")
    assert harness.request.sent("sendMessage") == []


async def test_a_submit_button_on_a_finished_task_says_so(harness: BotHarness) -> None:
    task_id, _ = await _world(harness, TaskStatus.DONE)
    await harness.process(harness.updates.callback(harness.updates.user(OWNER),
                                                   f"ev:sub:{task_id}"))
    assert [a.params.get("text") for a in _answers(harness)] == [
        f"任务 #{task_id} 已结束（已完成），无需再提交。"]


async def test_submitting_answers_once_and_takes_the_button_away(harness: BotHarness) -> None:
    task_id, _ = await _world(harness, TaskStatus.IN_PROGRESS)
    await harness.process(harness.updates.callback(harness.updates.user(OWNER),
                                                   f"ev:sub:{task_id}"))
    assert len(_answers(harness)) == 1
    assert harness.request.sent("editMessageReplyMarkup")
    assert "已提交审核" in harness.request.last_text()
    # Not enough evidence: the refusal is shown (it was hidden behind an empty answer).
    async with harness.services.session() as s:
        c = await s.get(Campaign, 1)
        assert c is not None
        unit = await f.unit(s, "县财政局")
        owner = await s.get(Person, 1)
        assert owner is not None
        bare = await f.task(s, c, unit=unit, owner=owner, evidence_required=2)
    harness.request.clear()
    await harness.process(harness.updates.callback(harness.updates.user(OWNER),
                                                   f"ev:sub:{bare.id}"))
    answers = _answers(harness)
    assert len(answers) == 1 and "至少需要 2 份佐证材料" in str(answers[0].params.get("text"))


async def test_a_second_review_press_names_the_status_in_words(harness: BotHarness) -> None:
    _, evidence_id = await _world(harness, TaskStatus.SUBMITTED)
    admin = harness.updates.user(ADMIN)
    await harness.process(harness.updates.callback(admin, f"ev:ok:{evidence_id}"))
    harness.request.clear()
    await harness.process(harness.updates.callback(admin, f"ev:ok:{evidence_id}"))
    text = str(_answers(harness)[-1].params.get("text"))
    assert f"佐证 E{evidence_id} 已经审核过了（已通过）" in text and "approved" not in text


async def test_pressing_start_twice_names_the_status(harness: BotHarness) -> None:
    task_id, _ = await _world(harness, TaskStatus.IN_PROGRESS)
    await harness.process(harness.updates.callback(harness.updates.user(OWNER),
                                                   f"task:start:{task_id}"))
    answer = _answers(harness)[-1]
    assert answer.params.get("text") == f"任务 #{task_id} 已经是「进行中」了。"
    assert not answer.params.get("show_alert")


async def test_opening_a_task_that_is_not_yours_is_answered_once(harness: BotHarness) -> None:
    task_id, _ = await _world(harness, TaskStatus.IN_PROGRESS)
    async with harness.services.session() as s:
        await f.person(s, "李四", telegram_id=OWNER + 50)
    await harness.process(harness.updates.callback(harness.updates.user(OWNER + 50),
                                                   f"task:open:{task_id}"))
    answers = _answers(harness)
    assert [a.params.get("text") for a in answers] == [f"任务 #{task_id} 不在您的职责范围内。"]
