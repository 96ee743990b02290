"""The task card names what the ledger does: co-operating units, the responsible leader and
the evidence asked for by name."""

from __future__ import annotations

from datetime import timedelta

from db.models import Role, TaskPartner
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f

OWNER = 5555001


async def test_the_card_shows_partners_leader_and_named_evidence(harness: BotHarness) -> None:
    async with harness.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        finance = await f.unit(s, "县财政局")
        labour = await f.unit(s, "县人力资源和社会保障局")
        owner = await f.person(s, "王芳", unit=edu, telegram_id=OWNER)
        leader = await f.person(s, "刘建国", role=Role.LEADER)
        task = await f.task(s, c, unit=edu, owner=owner, title="教师编制不足",
                            due_at=DEFAULT_NOW + timedelta(days=5))
        task.leader_id = leader.id
        task.evidence_items = ["编制核定文件", "招聘公告"]
        task.evidence_required = 2
        s.add(TaskPartner(task_id=task.id, unit_id=labour.id, position=1))
        s.add(TaskPartner(task_id=task.id, unit_id=finance.id, position=0))
        task_id = task.id
    await harness.process(harness.updates.text(harness.updates.user(OWNER), f"/task {task_id}"))
    card = harness.request.last_text()
    assert "🤝 配合单位：县财政局、县人力资源和社会保障局" in card
    assert "🧑‍💼 责任领导：刘建国" in card
    assert "📎 需要佐证材料：编制核定文件、招聘公告（共 2 份）" in card
    assert card.index("责任单位") < card.index("配合单位") < card.index("责任人")
