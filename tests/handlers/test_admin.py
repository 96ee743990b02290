"""The office's commands through the real Application."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.delivery.menus import publish_menus
from db.models import Invite, Person, Role, Task, TaskStatus, Unit
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f
from tests.utils.telegram import BOT_USERNAME

ADMIN, LEADER, OWNER = 6660001, 6660002, 6660003


async def _seed(h: BotHarness) -> int:
    async with h.services.session() as s:
        c = await f.campaign(s)
        office = await f.unit(s, "迎检办")
        edu = await f.unit(s, "县教育局")
        await f.person(s, "王主任", unit=office, role=Role.ADMIN, telegram_id=ADMIN)
        await f.person(s, "赵县长", role=Role.LEADER, telegram_id=LEADER)
        zhang = await f.person(s, "张三", unit=edu, telegram_id=OWNER)
        await f.person(s, "李四", unit=edu)
        await f.indicator(s, "B-3", name="图书配备")
        task = await f.task(s, c, unit=edu, owner=zhang, title="完善图书室台账",
                            due_at=DEFAULT_NOW + timedelta(days=5))
        return task.id


async def test_invite_gives_a_single_use_deep_link(harness: BotHarness) -> None:
    await _seed(harness)
    admin = harness.updates.user(ADMIN)
    await harness.process(harness.updates.text(admin, "/invite 李四"))
    text = harness.request.last_text()
    async with harness.services.session() as s:
        invite = (await s.execute(select(Invite))).scalar_one()
    assert f"https://t.me/{BOT_USERNAME}?start={invite.code}" in text
    assert invite.expires_at - DEFAULT_NOW == timedelta(hours=72)


async def test_only_the_office_may_invite_or_create(harness: BotHarness) -> None:
    await _seed(harness)
    for who in (LEADER, OWNER):
        user = harness.updates.user(who)
        await harness.process(harness.updates.text(user, "/invite 李四"))
        assert "没有执行此操作的权限" in harness.request.last_text()
        await harness.process(harness.updates.text(user, "/newtask 县教育局 | x | 李四 | 2026-12-01"))
        assert "没有执行此操作的权限" in harness.request.last_text()
    async with harness.services.session() as s:
        assert (await s.execute(select(Invite))).first() is None


async def test_newtask_reassign_deadline_cancel(harness: BotHarness) -> None:
    await _seed(harness)
    admin = harness.updates.user(ADMIN)
    u = harness.updates
    await harness.process(u.text(admin, "/newtask 县教育局 | 更新控辍保学台账 | 李四 | 2026-12-10 | B-3"))
    assert "已新建任务" in harness.request.texts()[-2]
    async with harness.services.session() as s:
        task = (await s.execute(select(Task).where(Task.title == "更新控辍保学台账"))).scalar_one()
        li = (await s.execute(select(Person).where(Person.name == "李四"))).scalar_one()
        assert task.owner_id == li.id
        assert task.due_at == datetime(2026, 12, 10, 17, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    await harness.process(u.text(admin, f"/reassign {task.id} 张三"))
    assert "张三" in harness.request.last_text()
    await harness.process(u.text(admin, f"/deadline {task.id} 2026-12-12 09:00"))
    assert "2026-12-12 09:00" in harness.request.last_text()
    await harness.process(u.text(admin, f"/cancel {task.id} 合并到其他任务"))
    async with harness.services.session() as s:
        again = await s.get(Task, task.id)
        assert again is not None and again.status is TaskStatus.CANCELLED
        assert again.due_at == datetime(2026, 12, 12, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


async def test_newtask_errors_are_explained(harness: BotHarness) -> None:
    await _seed(harness)
    admin = harness.updates.user(ADMIN)
    u = harness.updates
    await harness.process(u.text(admin, "/newtask 县教育局 | 只有两段"))
    assert "用法" in harness.request.last_text()
    await harness.process(u.text(admin, "/newtask 县教育局 | 任务 | 李四 | 下周"))
    assert "无法识别日期" in harness.request.last_text()
    await harness.process(u.text(admin, "/newtask 县教育局 | 整理功能室照片 | 张三 | 2026-12-01"))
    await harness.process(u.text(admin, "/newtask 县教育局 |  整理功能室照片 | 李四 | 2026-12-02"))
    assert "已有同名任务" in harness.request.last_text()
    await harness.process(u.text(admin, "/reassign 1 不存在的人"))
    assert "找不到人员" in harness.request.last_text()


async def test_menus_are_published_per_language_and_scope(harness: BotHarness) -> None:
    await _seed(harness)
    await publish_menus(harness.app.bot, harness.services, harness.services.commands)
    calls = harness.request.sent("setMyCommands")
    default_zh = next(c for c in calls if "language_code" not in c.params and "chat_id" not in str(c.params.get("scope")))
    names = [c["command"] for c in default_zh.params["commands"]]
    assert "tasks" in names and "invite" not in names
    assert any(c.params.get("language_code") == "en" for c in calls)
    scoped = {str(c.params["scope"]): c for c in calls if "chat_id" in str(c.params.get("scope"))}
    admin_menu = next(c for k, c in scoped.items() if str(ADMIN) in k)
    assert "invite" in [c["command"] for c in admin_menu.params["commands"]]
    leader_menu = next(c for k, c in scoped.items() if str(LEADER) in k)
    assert "invite" not in [c["command"] for c in leader_menu.params["commands"]]


async def test_newtask_refuses_units_and_people_not_on_the_roster(harness: BotHarness) -> None:
    """Issue 13: /newtask created 教育局 beside 县教育局 (its own usage example did) and a
    person from a typo; it now refuses them and names the nearest ones on the roster."""
    await _seed(harness)
    admin = harness.updates.user(ADMIN)
    u = harness.updates
    await harness.process(u.text(admin, "/newtask 教育局 | 更新控辍保学台账 | 李四 | 2026-12-10"))
    text = harness.request.last_text()
    assert "名单中没有单位「教育局」，任务未创建" in text and "县教育局" in text
    await harness.process(u.text(admin, "/newtask 县教肓局 | 更新控辍保学台账 | 李四 | 2026-12-10"))
    assert "您要找的是不是：县教育局" in harness.request.last_text()
    await harness.process(u.text(admin, "/newtask 县教育局 | 更新控辍保学台账 | 李 四 | 2026-12-10"))
    text = harness.request.last_text()
    assert "名单中没有人员「李 四」" in text and "李四" in text
    await harness.process(u.text(admin, "/newtask 县人社局 | 核定教师编制 | 周六 | 2026-12-10"))
    assert "新单位请先写入迎检工作设置文件" in harness.request.last_text()
    async with harness.services.session() as s:
        units = (await s.execute(select(Unit.name))).scalars().all()
        people = (await s.execute(select(Person.name))).scalars().all()
        tasks = (await s.execute(select(Task.title))).scalars().all()
    assert sorted(units) == ["县教育局", "迎检办"]
    assert "李 四" not in people and "周六" not in people
    assert tasks == ["完善图书室台账"]
    # The usage example itself names a unit that is on the roster.
    await harness.process(u.text(admin, "/newtask"))
    assert "例如：/newtask 县教育局 |" in harness.request.last_text()


async def test_a_past_deadline_is_kept_with_a_warning(harness: BotHarness) -> None:
    """Issue 13: past deadlines in /newtask and /deadline were taken without a word."""
    task_id = await _seed(harness)
    admin = harness.updates.user(ADMIN)
    u = harness.updates
    await harness.process(u.text(admin, "/newtask 县教育局 | 补报辍学台账 | 李四 | 2026-11-01"))
    texts = harness.request.texts()
    assert any("已新建任务" in t for t in texts)
    warning = next(t for t in texts if "已经过去" in t)
    assert "2026-11-01 17:30" in warning and "/deadline" in warning
    harness.request.clear()
    await harness.process(u.text(admin, f"/deadline {task_id} 2026-11-20"))
    assert "已调整为 2026-11-20 17:30" in harness.request.texts()[0]
    assert "已经过去" in harness.request.last_text()
    harness.request.clear()
    await harness.process(u.text(admin, f"/deadline {task_id} 2026-12-20"))
    assert not any("已经过去" in t for t in harness.request.texts())
    async with harness.services.session() as s:
        moved = await s.get(Task, task_id)
        assert moved is not None and moved.due_at is not None
        assert moved.due_at.astimezone(ZoneInfo("Asia/Shanghai")).day == 20
