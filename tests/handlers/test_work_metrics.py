"""What the bot's work adds to the metrics: replies meeting 429s, evidence stored, tables
imported, reminders due and sent — each counted where everything passes through."""

from __future__ import annotations

from datetime import datetime, timedelta

from prometheus_client import REGISTRY

from bot.core import metrics
from bot.core.clock import FrozenClock
from bot.services import Services
from db.models import Role
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.handlers.test_tables_flow import _seed as seed_office
from tests.handlers.test_tables_flow import _send as send_table
from tests.handlers.test_tables_flow import _xlsx
from tests.utils import factories as f
from tests.utils.evidence_files import jpeg
from tests.utils.telegram import flood

ADMIN, OWNER = 6660001, 5790002


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_reply_meeting_flood_control_is_counted(harness: BotHarness) -> None:
    async with harness.services.session() as s:
        await f.person(s, "张三", telegram_id=OWNER)
    before = _sample("inspectbot_telegram_429_total", path="reply")
    harness.request.fail_next("sendMessage", flood(1))

    await harness.process(harness.updates.text(harness.updates.user(OWNER), "/help"))

    assert _sample("inspectbot_telegram_429_total", path="reply") - before == 1
    assert harness.request.sent("sendMessage")  # waited out, then answered


async def test_evidence_bytes_are_counted_once_per_stored_file(harness: BotHarness) -> None:
    async with harness.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        owner = await f.person(s, "张三", unit=edu, telegram_id=OWNER)
        task = await f.task(s, c, unit=edu, owner=owner, title="实验室标识标牌",
                            due_at=DEFAULT_NOW + timedelta(days=5))
    data = jpeg(taken=datetime(2026, 11, 20, 10, 15))
    harness.request.files["doc-1"] = data
    harness.request.files["doc-2"] = data  # the same bytes sent again
    zhang = harness.updates.user(OWNER)
    files = _sample("inspectbot_evidence_stored_files_total")
    size = _sample("inspectbot_evidence_stored_bytes_total")

    for file_id in ("doc-1", "doc-2"):
        await harness.process(harness.updates.document(
            zhang, file_id, f"{file_id}.jpg", "image/jpeg", caption=f"#{task.id} 门牌",
            file_size=len(data)))

    assert _sample("inspectbot_evidence_stored_files_total") - files == 1
    assert _sample("inspectbot_evidence_stored_bytes_total") - size == len(data)


async def test_a_table_import_is_timed_in_preview_and_apply(harness: BotHarness) -> None:
    await seed_office(harness)
    preview = _sample("inspectbot_import_seconds_count", table="breakdown", step="preview")
    apply = _sample("inspectbot_import_seconds_count", table="breakdown", step="apply")

    # Owners not on Telegram yet: nobody is told of a new task.
    await send_table(harness, ADMIN, _xlsx(
        ["编号", "单位", "任务", "责任人", "截止时间", "阶段"],
        ["Q-2", "石门镇", "建立劝返台账", "曹明", "2026-12-03", "整改落实"],
    ))
    card = harness.request.sent("sendMessage")[-1]
    ok = card.buttons()[0][1]
    await harness.process(harness.updates.callback(harness.updates.user(ADMIN), ok, card.text))

    assert "导入完成" in harness.request.last_text()
    assert _sample("inspectbot_import_seconds_count", table="breakdown",
                   step="preview") - preview == 1
    assert _sample("inspectbot_import_seconds_count", table="breakdown",
                   step="apply") - apply == 1


async def test_reminders_due_are_counted_by_the_sweep(
    services: Services, clock: FrozenClock
) -> None:
    async with services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        owner = await f.person(s, "张三", unit=edu, telegram_id=8002)
        await f.person(s, "办公室", role=Role.ADMIN, telegram_id=8003)
        task = await f.task(s, c, unit=edu, owner=owner, title="完善控辍保学台账",
                            due_at=DEFAULT_NOW + timedelta(days=3, hours=1))
        task.created_at = DEFAULT_NOW - timedelta(days=10)
    await services.reminders.reconcile()
    await services.reminders.sweep()
    before = _sample("inspectbot_reminders_due_total")

    clock.advance(timedelta(hours=1))  # the three-day reminder comes due
    assert await services.reminders.sweep() == 1
    assert await services.reminders.sweep() == 0

    assert _sample("inspectbot_reminders_due_total") - before == 1


def test_a_reminder_sent_counts_as_sent_and_as_a_reminder() -> None:
    sent = _sample("inspectbot_outbox_sent_total", kind="reminder.owner")
    reminders = _sample("inspectbot_reminders_sent_total")
    digests = _sample("inspectbot_outbox_sent_total", kind="digest")

    metrics.outbox_settled("reminder.owner", "sent")
    metrics.outbox_settled("digest", "sent")
    metrics.outbox_settled("reminder.owner", "dead")

    assert _sample("inspectbot_outbox_sent_total", kind="reminder.owner") - sent == 1
    assert _sample("inspectbot_outbox_sent_total", kind="digest") - digests == 1
    assert _sample("inspectbot_reminders_sent_total") - reminders == 1
    assert _sample("inspectbot_outbox_failed_total", kind="reminder.owner", state="dead") >= 1
