"""Reports against a real database: aggregation, scope per role, lists, history, bulletins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from bot.core.access import actor_for
from bot.delivery.outbox import Outbox
from bot.reports import bulletin_post
from bot.reports.summary import build_summary, scope_for
from bot.services import Services
from db.models import BulletinLog, Campaign, OutboxMessage, Person, Role, Task, TaskStatus
from db.repositories import reports as reports_repo
from db.repositories.reports import EVERYTHING, TaskScope
from db.repositories.reports import timeline as timeline_repo
from tests.conftest import DEFAULT_NOW, SHANGHAI
from tests.utils import factories as f

NOW = DEFAULT_NOW
DAY = timedelta(days=1)


@dataclass
class World:
    campaign: Campaign
    units: dict[str, int]
    people: dict[str, int]
    tasks: dict[str, int]


async def seed(services: Services) -> World:
    """Four units (one without tasks), a township leader, two owners, seven tasks."""
    async with services.session() as s:
        c = await f.campaign(s)
        p1 = await f.phase(s, c, "自查", 1, date(2026, 11, 1), date(2026, 11, 30))
        county = await f.unit(s, "县政府")
        edu = await f.unit(s, "教育局", parent=county)
        town = await f.unit(s, "城关镇", parent=county)
        school = await f.unit(s, "实验小学", parent=town)
        await f.unit(s, "空单位", parent=county)
        await f.person(s, "李组长", role=Role.LEADER)
        await f.person(s, "办公室", role=Role.ADMIN)
        zhang = await f.person(s, "张三", unit=edu)
        zhao = await f.person(s, "赵六", unit=school)
        wang = await f.person(s, "王镇长", unit=town)
        town.leader_id = wang.id
        veto = await f.indicator(s, "FJ-1", name="控辍保学", veto=True)
        plain = await f.indicator(s, "B-1", name="图书配备")
        t = {
            "t1": await f.task(s, c, unit=edu, owner=zhang, due_at=NOW - 3 * DAY, indicator=veto),
            "t2": await f.task(s, c, unit=edu, owner=zhang, due_at=NOW + 5 * DAY,
                               status=TaskStatus.DONE, indicator=plain, phase=p1),
            "t3": await f.task(s, c, unit=edu, owner=zhang, status=TaskStatus.IN_PROGRESS),
            "t4": await f.task(s, c, unit=town, owner=zhao, due_at=NOW + 10 * DAY,
                               status=TaskStatus.BLOCKED, indicator=veto),
            "t5": await f.task(s, c, unit=school, owner=zhao, due_at=NOW - DAY,
                               status=TaskStatus.DONE, phase=p1),
            "t6": await f.task(s, c, unit=school, owner=zhao, due_at=NOW - 5 * DAY,
                               status=TaskStatus.CANCELLED, phase=p1),
            "t7": await f.task(s, c, unit=school, owner=zhang, due_at=NOW - 2 * DAY,
                               status=TaskStatus.SUBMITTED),
        }
        t["t3"].progress = 40
        t["t7"].progress = 80
        for key in ("t2", "t5"):
            t[key].progress = 100
            t[key].done_at = NOW - DAY
        units = {u.name: u.id for u in (county, edu, town, school)}
        people = {p.name: p.id for p in (zhang, zhao, wang)}
        return World(c, units, people, {k: v.id for k, v in t.items()})


async def test_tallies_by_unit_count_every_state(services: Services) -> None:
    w = await seed(services)
    async with services.session() as s:
        rows = await reports_repo.tallies(session=s, campaign_id=w.campaign.id, scope=EVERYTHING,
                                          now=NOW, by=("unit", "indicator", "phase"))
    by_unit = {r.key: r for r in rows["unit"]}
    edu, town, school = (by_unit[w.units[n]] for n in ("教育局", "城关镇", "实验小学"))
    # total, done, cancelled, blocked, overdue, undated, progress (done = 100, cancelled = 0)
    assert (edu.total, edu.done, edu.cancelled, edu.blocked, edu.overdue, edu.undated,
            edu.progress_sum) == (3, 1, 0, 0, 1, 1, 140)
    assert (town.total, town.blocked, town.overdue) == (1, 1, 0)
    # The cancelled task is late on paper but counts nowhere; the submitted one is late.
    assert (school.total, school.done, school.cancelled, school.overdue,
            school.progress_sum) == (3, 1, 1, 1, 180)
    assert w.units["县政府"] not in by_unit  # a unit with no tasks has no row
    by_phase = {r.key: r.total for r in rows["phase"]}
    assert sorted(by_phase.values()) == [3, 4] and by_phase[None] == 4
    by_indicator = {r.key: r for r in rows["indicator"]}
    assert sum(r.total for r in rows["indicator"]) == 7
    assert by_indicator[None].total == 4


async def test_summary_for_a_leader(services: Services) -> None:
    w = await seed(services)
    async with services.session() as s:
        summary = await build_summary(s, w.campaign, EVERYTHING, NOW, SHANGHAI)
    assert summary.days_to_inspection == 28 and summary.current_phase == "自查"
    assert (summary.overall.active, summary.overall.done, summary.overall.overdue) == (6, 2, 2)
    assert summary.overall.undated == 1 and summary.overall.blocked == 1
    # The least complete first; every unit with something to do is named.
    assert [u.name for u in summary.units.worst] == ["城关镇", "教育局", "实验小学"]
    assert (summary.units.ranked, summary.units.rest) == (3, None)
    assert [r.id for r in summary.risks] == [w.tasks["t1"], w.tasks["t4"]]
    assert summary.risk_total == 2
    assert [(i.code, i.counts.overdue, i.counts.blocked) for i in summary.risky_indicators] == [
        ("FJ-1", 1, 1)
    ]


async def test_summary_of_an_empty_campaign(services: Services) -> None:
    async with services.session() as s:
        c = await f.campaign(s, inspection=date(2026, 12, 1))
        await f.unit(s, "教育局")
        summary = await build_summary(s, c, EVERYTHING, NOW, SHANGHAI)
    assert summary.empty and summary.units.worst == [] and summary.risks == []
    assert summary.days_to_inspection == 9


async def _scope_of(services: Services, name: str) -> TaskScope:
    async with services.session() as s:
        person = (await s.execute(select(Person).where(Person.name == name))).scalar_one()
        return scope_for(await actor_for(session=s, person=person))


async def _visible(services: Services, w: World, scope: TaskScope) -> set[str]:
    async with services.session() as s:
        summary = await build_summary(s, w.campaign, scope, NOW, SHANGHAI)
        lines, _ = await reports_repo.task_lines(session=s, campaign_id=w.campaign.id,
                                                 scope=scope, now=NOW, limit=50)
    names = {v: k for k, v in w.tasks.items()}
    assert summary.overall.total == len(lines)
    return {names[line.id] for line in lines}


async def test_scope_per_role(services: Services) -> None:
    w = await seed(services)
    everyone = {f"t{i}" for i in range(1, 8)}
    assert await _visible(services, w, await _scope_of(services, "李组长")) == everyone
    assert await _visible(services, w, await _scope_of(services, "办公室")) == everyone
    # The township's leader sees the township and the school under it.
    assert await _visible(services, w, await _scope_of(services, "王镇长")) == {
        "t4", "t5", "t6", "t7"
    }
    # A responsible person sees only their own tasks, wherever they are.
    assert await _visible(services, w, await _scope_of(services, "张三")) == {
        "t1", "t2", "t3", "t7"
    }
    assert await _visible(services, w, await _scope_of(services, "赵六")) == {"t4", "t5", "t6"}


async def test_overdue_list_is_open_late_tasks_longest_first(services: Services) -> None:
    w = await seed(services)
    async with services.session() as s:
        lines, total = await reports_repo.task_lines(
            session=s, campaign_id=w.campaign.id, scope=EVERYTHING, now=NOW, overdue_only=True
        )
        unit_lines, unit_total = await reports_repo.task_lines(
            session=s, campaign_id=w.campaign.id, scope=EVERYTHING, now=NOW,
            unit_id=w.units["实验小学"], limit=2,
        )
    assert [line.id for line in lines] == [w.tasks["t1"], w.tasks["t7"]] and total == 2
    assert lines[0].owner_name == "张三" and lines[0].unit_name == "教育局"
    assert lines[0].indicator_code == "FJ-1" and lines[0].indicator_veto
    # Open before closed, then by deadline; the page is limited, the total is not.
    assert [line.id for line in unit_lines] == [w.tasks["t7"], w.tasks["t6"]] and unit_total == 3


async def test_task_lines_reuse_one_statement_per_filter_shape(services: Services) -> None:
    """The page and count statements are built once per combination of filters; the ids,
    the page's bounds and the time are parameters, so each call still gets its own tasks."""
    w = await seed(services)
    built = reports_repo._line_statements
    built.cache_clear()
    async with services.session() as s:
        everything, total = await reports_repo.task_lines(
            session=s, campaign_id=w.campaign.id, scope=EVERYTHING, now=NOW, limit=50)
        pages = [
            (await reports_repo.task_lines(session=s, campaign_id=w.campaign.id,
                                           scope=EVERYTHING, now=NOW, limit=2, offset=offset))[0]
            for offset in (0, 2, 4, 6)
        ]
        school = TaskScope(unit_ids=frozenset({w.units["实验小学"]}))
        town = TaskScope(unit_ids=frozenset({w.units["城关镇"], w.units["实验小学"]}))
        in_school, school_total = await reports_repo.task_lines(
            session=s, campaign_id=w.campaign.id, scope=school, now=NOW)
        in_town, town_total = await reports_repo.task_lines(
            session=s, campaign_id=w.campaign.id, scope=town, now=NOW)
        late_then, _ = await reports_repo.task_lines(
            session=s, campaign_id=w.campaign.id, scope=EVERYTHING, now=NOW - 2 * DAY,
            overdue_only=True)
        late_now, _ = await reports_repo.task_lines(
            session=s, campaign_id=w.campaign.id, scope=EVERYTHING, now=NOW, overdue_only=True)
    assert total == 7 and [line.id for page in pages for line in page] == [
        line.id for line in everything]
    assert (school_total, town_total) == (3, 4)
    assert {line.id for line in in_school} < {line.id for line in in_town}
    assert [line.id for line in late_then] == [w.tasks["t1"]]
    assert [line.id for line in late_now] == [w.tasks["t1"], w.tasks["t7"]]
    # Three shapes: the whole campaign, some units, the whole campaign's overdue tasks.
    assert built.cache_info().misses == 3


async def test_open_count_changes_follow_the_task_history(services: Services) -> None:
    async with services.session() as s:
        c = await f.campaign(s)
        u = await f.unit(s, "教育局")
        base = datetime(2026, 11, 1, 10, 0, tzinfo=SHANGHAI)
        a = await f.task(s, c, unit=u, owner=None)
        b = await f.task(s, c, unit=u, owner=None)
        imported = await f.task(s, c, unit=u, owner=None, status=TaskStatus.DONE)
        late_night = await f.task(s, c, unit=u, owner=None)
        for task in (a, b, imported):
            task.created_at = base
        imported.done_at = base + 2 * DAY
        # 23:30 in Beijing is 15:30 UTC: the change belongs to the local day.
        late_night.created_at = datetime(2026, 11, 2, 23, 30, tzinfo=SHANGHAI)
        s.add_all([
            _event(a.id, base + 4 * DAY, "in_progress", "done"),
            _event(a.id, base + 5 * DAY, "done", "in_progress"),
            _event(b.id, base + 5 * DAY, "todo", "in_progress"),  # open → open: no change
            _event(b.id, base + 6 * DAY, "in_progress", "cancelled"),
        ])
        await s.flush()
        changes = await timeline_repo.open_count_changes(
            session=s, campaign_id=c.id, scope=EVERYTHING, zone=SHANGHAI, now=NOW
        )
    d = date(2026, 11, 1)
    assert changes == {d: 3, d + DAY: 1, d + 2 * DAY: -1, d + 4 * DAY: -1, d + 5 * DAY: 1,
                       d + 6 * DAY: -1}


def _event(task_id: int, at: datetime, old: str, new: str) -> object:
    from db.models import TaskEvent

    return TaskEvent(task_id=task_id, actor_id=None, at=at, kind="status", old_value=old,
                     new_value=new, note="")


async def test_finished_phases_since_a_moment(services: Services) -> None:
    w = await seed(services)
    async with services.session() as s:
        found = await timeline_repo.finished_phases(session=s, campaign_id=w.campaign.id,
                                                   since=NOW - 7 * DAY)
        none = await timeline_repo.finished_phases(session=s, campaign_id=w.campaign.id,
                                                  since=NOW)
    # Both units finished every uncancelled task of 自查 yesterday.
    assert sorted(x.unit_id for x in found) == sorted([w.units["教育局"], w.units["实验小学"]])
    assert none == []


def _delivery(services: Services) -> Outbox:
    return services.delivery.outbox


async def test_scheduled_bulletin_is_queued_once_per_week(services: Services) -> None:
    w = await seed(services)
    delivery = _delivery(services)

    async def post(manual: bool, at: datetime, chat: int | None = -100) -> str:
        async with services.session() as s:
            campaign = await s.get(Campaign, w.campaign.id)
            assert campaign is not None
            outcome = await bulletin_post.post_bulletin(
                s, outbox=delivery, texts=services.texts, campaign=campaign, chat_id=chat,
                language="zh", now=at, zone=SHANGHAI, manual=manual,
            )
        return outcome.status

    assert await post(False, NOW) == "queued"
    assert await post(False, NOW + timedelta(hours=3)) == "already"  # a restart, same week
    assert await post(True, NOW + timedelta(hours=4)) == "queued"  # the office, by hand
    assert await post(False, NOW + 2 * DAY, chat=None) == "no_chat"
    assert await post(False, NOW + 2 * DAY) == "queued"  # the next ISO week (Monday)
    async with services.session() as s:
        outbox = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
        logs = (await s.execute(select(BulletinLog).order_by(BulletinLog.id))).scalars().all()
    assert [m.key for m in outbox] == [log.key for log in logs]
    assert len(outbox) == 3 and all(m.kind == "bulletin" and m.chat_id == -100 for m in outbox)
    first = outbox[0].text
    assert "实验小学" in first and "张三" in first and "逾期 3 天" in first
    assert "完成「自查」阶段" in first
    # Each bulletin's period starts where the previous one ended.
    assert logs[1].since == logs[0].sent_at and logs[2].since == logs[1].sent_at


async def test_all_tasks_counted_once(services: Services) -> None:
    w = await seed(services)
    async with services.session() as s:
        rows = await reports_repo.tallies(session=s, campaign_id=w.campaign.id,
                                          scope=EVERYTHING, now=NOW, by=("owner",))
        count = (await s.execute(select(func.count()).select_from(Task))).scalar_one()
    assert sum(r.total for r in rows["owner"]) == count == 7


async def test_a_units_standing_counts_what_the_reader_sees_of_it(services: Services) -> None:
    """The unit list's standing: all of the unit's tasks for a reader who sees everything
    (counted in that unit alone), the reader's share of it otherwise; none for a unit with
    nothing the reader could count."""
    from bot.reports import service as reports_service
    from bot.reports.summary import rank_units

    w = await seed(services)
    seen: dict[tuple[str, str], int | None] = {}
    for reader in ("李组长", "王镇长", "赵六"):
        async with services.session() as s:
            person = (await s.execute(select(Person).where(Person.name == reader))).scalar_one()
            actor = await actor_for(session=s, person=person)
            tallies = await reports_repo.tallies(session=s, campaign_id=w.campaign.id,
                                                 scope=scope_for(actor), now=NOW, by=("unit",))
            ranked = {u.id: u for u in rank_units(tallies["unit"],
                                                  await reports_repo.units(session=s))}
            for name, unit_id in w.units.items():
                listed = await reports_service.unit_list(s, actor, unit_id, NOW, size=10)
                assert listed.standing == ranked.get(unit_id), (reader, name)
                seen[reader, name] = listed.standing.counts.total if listed.standing else None
    assert seen["李组长", "教育局"] == 3 and seen["李组长", "县政府"] is None
    assert seen["赵六", "教育局"] is None and seen["赵六", "实验小学"] is not None
