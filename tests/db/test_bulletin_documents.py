"""The bulletin as offices issue it, from a real database: 第 N 期, peer groups, named units,
the place for the certification status at the top, and the printable DOCX."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import main
from bot.reports import bulletin as bulletin_service
from bot.reports import bulletin_post
from bot.services import Services
from db.models import Campaign, OutboxMessage, Unit, UnitKind
from tests.conftest import SHANGHAI
from tests.db.test_reports_aggregation import NOW, World, seed


async def _kinds(services: Services, w: World) -> None:
    async with services.session() as s:
        await s.execute(update(Unit).where(Unit.id == w.units["实验小学"])
                        .values(kind=UnitKind.SCHOOL))
        await s.execute(update(Unit).where(Unit.id == w.units["城关镇"])
                        .values(kind=UnitKind.TOWNSHIP))


async def _certification(session: AsyncSession, campaign: Campaign, now: datetime,
                         language: str) -> bulletin_service.StatusSection:
    return bulletin_service.StatusSection("认定情况", ("综合差异系数 0.48 &lt;达标&gt;",))


async def test_post_queues_the_text_then_the_docx_and_numbers_the_issues(
    services: Services, tmp_path: Path,
) -> None:
    w = await seed(services)
    await _kinds(services, w)
    outbox = services.delivery.outbox

    async def post(at: datetime) -> None:
        async with services.session() as s:
            campaign = await s.get(Campaign, w.campaign.id)
            assert campaign is not None
            outcome = await bulletin_post.post_bulletin(
                s, outbox=outbox, texts=services.texts, campaign=campaign, chat_id=-100,
                language="zh", now=at, zone=SHANGHAI, manual=True, issuer="青岚县教育督导室",
                status=_certification, docx_dir=tmp_path,
            )
        assert outcome.status == "queued"

    await post(NOW)
    await post(NOW.replace(hour=10))
    async with services.session() as s:
        queued = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))
                  ).scalars().all()
    assert [m.document_path is not None for m in queued] == [False, True, False, True]
    first, document = queued[0], queued[1]
    assert "第 1 期" in first.text and "第 2 期" in queued[2].text
    # The section another feature renders comes first, escaped.
    assert first.text.index("认定情况") < first.text.index("一、总体情况")
    assert "0.48 &lt;达标&gt;" in first.text
    # Peer groups: the school and the township are ranked among their own kind.
    assert "【学校】（1 个单位）" in first.text and "【区直部门】（1 个单位）" in first.text
    assert "教育局：一票否决指标任务逾期 1 项。" in first.text  # 通报批评 by rule
    assert document.document_path is not None
    path = Path(document.document_path)
    assert path.parent == tmp_path / str(w.campaign.id) and path.suffix == ".docx"

    printed = await asyncio.to_thread(Document, str(path))
    paragraphs = [p.text for p in printed.paragraphs]
    assert paragraphs[:3] == ["义务教育均衡发展迎检工作通报", "第 1 期",
                              "青岚县教育督导室　　　　2026年11月22日"]
    assert "综合差异系数 0.48 <达标>" in paragraphs  # printed as written, no escaping
    assert not any("<b>" in p or "⚠️" in p for p in paragraphs)
    headings = [p.text for p in printed.paragraphs
                if p.style is not None and p.style.name == "Heading 1"]
    assert headings[0] == "认定情况" and headings[-1] == "七、下步工作要求"
    # The ranking prints as tables, one per peer group, the header row repeated.
    assert [c.text for c in printed.tables[0].rows[0].cells] == [
        "名次", "单位", "到期任务", "按时完成", "按时完成率", "逾期未完成", "总体完成率"]
    assert len(printed.tables) == 2
    fonts = printed.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "仿宋"
    title_fonts = printed.styles["Title"].element.rPr.find(qn("w:rFonts"))
    assert title_fonts.get(qn("w:eastAsia")) == "方正小标宋简体"


async def test_the_docx_from_the_command_line(services: Services, tmp_path: Path,
                                              database_url: str) -> None:
    await seed(services)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n[reports]\n'
                      'bulletin_issuer = "青岚县人民政府教育督导室"\n', encoding="utf-8")
    out = tmp_path / "通报.docx"
    code = await asyncio.to_thread(main, ["-c", str(config), "bulletin", "--docx", str(out)])
    assert code == 0
    printed = await asyncio.to_thread(Document, str(out))
    assert printed.paragraphs[1].text == "第 1 期"
    assert printed.paragraphs[2].text.startswith("青岚县人民政府教育督导室")
    async with services.session() as s:
        assert (await s.execute(select(OutboxMessage))).first() is None  # nothing sent
