"""Breakdown tables over real HTTP: the office sends a file, confirms, exports, sends it back."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, update

from bot.tables import setup as campaign_setup
from db.models import PendingImport, Person, Task
from sandbox import SandboxClient
from tests.e2e.conftest import LiveBot, document_of, sandbox_server

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
OFFICE, OWNER = 4401, 4402


def _example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


async def _seed(bot: LiveBot) -> None:
    """The sample campaign, with the office's 周敏 and the bureau's 王芳 linked."""
    spec = campaign_setup.load_setup(EXAMPLES / "campaign.toml")
    async with bot.services.session() as s:
        await campaign_setup.apply_setup(s, spec, "campaign.toml")
        for name, telegram_id in (("周敏", OFFICE), ("王芳", OWNER)):
            await s.execute(update(Person).where(Person.name == name)
                            .values(telegram_id=telegram_id))


async def _count(bot: LiveBot, model: type) -> int:
    async with bot.services.session() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_office_imports_the_sample_table_by_sending_it(
    live_bot: LiveBot, sandbox: SandboxClient
) -> None:
    await _seed(live_bot)
    office = await sandbox.add_user("周敏", user_id=OFFICE, started=True)

    await office.send_document(_example("broken/bad_rows.csv"), filename="bad_rows.csv")
    errors = await office.expect_message(contains="处错误")
    assert "第 2 行「截止时间」" in errors.text and errors.buttons == []

    await office.send_document(_example("breakdown.xlsx"), filename="breakdown.xlsx")
    preview = await office.expect_message(contains="任务分解表预览")
    assert "新增任务 85 项" in preview.text
    assert preview.button_texts == ["✅ 确认导入", "✖️ 取消"]
    assert await _count(live_bot, Task) == 0

    await office.press(preview, "✅ 确认导入")
    done = await office.expect_edit(preview, contains="导入完成")
    assert "新增任务 85 项" in done.text and done.buttons == []
    assert await _count(live_bot, Task) == 85

    await office.send("/export")
    exported = await office.expect_document(timeout=10)
    assert "全部任务（85 项）" in exported.text
    stored = sandbox_server(sandbox).state.media.get(document_of(exported)["file_id"])
    await office.send_document(stored.data, filename=document_of(exported)["file_name"])
    again = await office.expect_message(contains="任务分解表预览")
    assert "无变化 85 项" in again.text and again.buttons == []
    assert await _count(live_bot, Task) == 85


async def test_owner_spreadsheet_is_evidence_business_not_an_import(
    polling_bot: LiveBot, sandbox: SandboxClient
) -> None:
    await _seed(polling_bot)
    owner = await sandbox.add_user("王芳", user_id=OWNER, started=True)
    await owner.send_document(_example("breakdown.csv"), filename="breakdown.csv")
    answer = await owner.expect_message()
    assert "预览" not in answer.text and "权限" not in answer.text
    assert await _count(polling_bot, PendingImport) == 0
