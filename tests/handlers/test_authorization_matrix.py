"""The authorization matrix (issue 11): every registered command and every callback shape,
for every role, on the person's own object and on someone else's, in a private chat and
in a group, through the real Application.

The expected table below is the policy. Its rows are checked against what the built
Application registers (`test_every_command_and_button_has_a_row`), so a new command or
callback shape cannot ship without a row saying who may use it.

Outcomes: OK (passed authorization: no refusal of any kind, no internal error, some
answer), a refusal with its exact catalog text, PRIVATE_ONLY (in a group), or silence.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from telegram import Chat
from telegram.ext import CallbackQueryHandler

from bot.core import callbacks
from bot.core.callbacks import SHAPES
from bot.quiz.bank import load_starter_if_empty
from bot.texts import Texts
from db.models import (
    Campaign,
    Evidence,
    EvidenceInbox,
    EvidenceKind,
    EvidenceStatus,
    PendingImport,
    Person,
    Question,
    QuizSession,
    Role,
    SessionKind,
    Unit,
)
from handlers.chats import GROUP_COMMANDS, registered_commands
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f
from tests.utils.telegram import SentCall

ROLES = ("admin", "leader", "unit_leader", "responsible", "staff", "stranger")
LINKED = ROLES[:-1]
TELEGRAM = {"admin": 7100001, "leader": 7100002, "unit_leader": 7100003,
            "responsible": 7100004, "staff": 7100005}
GROUP = Chat(-1007100000000, Chat.SUPERGROUP, title="迎检领导小组")
_strangers = itertools.count(7199000)

# Outcomes: "ok", "silent", or the id of the text that must be in the answer.
OK, SILENT, PRIVATE_ONLY = "ok", "silent", "gate.private_only"
FORBIDDEN, NOT_YOURS = "error.forbidden", "error.not_your_task"
NOT_REVIEWER = "evidence.error.not_reviewer"
UPLOAD_GONE, IMPORT_NOT_YOURS = "evidence.error.upload_gone", "tables.result.not_yours"
STALE = "quiz.stale"
LEADERS_ONLY, SCHOOL_FORBIDDEN = "indicators.leaders_only", "indicators.school_forbidden"
NOT_YOUR_SCHOOL, OFFICE_ONLY = "indicators.not_your_school", "indicators.office_only"
OWN_TASK = "reminders.nudge.own"
# Every text that means "refused"; an OK cell shows none of them.
REFUSALS = (FORBIDDEN, NOT_YOURS, NOT_REVIEWER, UPLOAD_GONE, IMPORT_NOT_YOURS, STALE,
            "evidence.error.own_upload", "error.not_linked", "error.internal",
            "gate.unknown_user", "gate.unknown_user_short", "gate.private_only",
            "gate.private_only_short", "tables.result.gone", LEADERS_ONLY, SCHOOL_FORBIDDEN,
            NOT_YOUR_SCHOOL, OFFICE_ONLY, "indicators.import.not_yours")

Rule = Callable[[str, bool], str]


def anyone(role: str, own: bool) -> str:
    return OK


def only(*roles: str, refusal: str = FORBIDDEN) -> Rule:
    return lambda role, own: OK if role in roles else refusal


def viewer(role: str, own: bool) -> str:
    """Whoever may see the task: the office and leaders, its owner, its unit's leader."""
    return OK if own or role in ("admin", "leader") else NOT_YOURS


def updater(role: str, own: bool) -> str:
    """Whoever may change the task: the office and its owner. A unit's leader oversees the
    unit's tasks ("own" for them) but does not change them (issue 13, docs/reminders.md)."""
    return OK if role == "admin" or (own and role != "unit_leader") else NOT_YOURS


def nudger(role: str, own: bool) -> str:
    """Whoever may see the task may remind its owner of it, except the owner themselves; a
    unit leader's "own" task is a colleague's."""
    if role == "unit_leader":
        return OK if own else NOT_YOURS
    if own:
        return OWN_TASK
    return OK if role in ("admin", "leader") else NOT_YOURS


def reviewer(role: str, own: bool) -> str:
    """The office reviews everything; a unit's leader the unit's files."""
    return OK if role == "admin" or (role == "unit_leader" and own) else NOT_REVIEWER


def owner_only(refusal: str) -> Rule:
    return lambda role, own: OK if own else refusal


def onto_a_task_one_changes(role: str, own: bool) -> str:
    """One's own waiting files, onto a task one may change: a unit leader's "own" task is
    a colleague's, which they oversee but do not change."""
    return NOT_YOURS if own and role == "unit_leader" else owner_only(UPLOAD_GONE)(role, own)


def school_editor(role: str, own: bool) -> str:
    """The office corrects any school; leaders see schools but correct none; a principal
    corrects their own (the matrix's unit leader leads a department, not a school)."""
    if role == "admin":
        return OK
    return NOT_YOUR_SCHOOL if role == "leader" else SCHOOL_FORBIDDEN


def importer(role: str, own: bool) -> str:
    if role != "admin":
        return FORBIDDEN
    return OK if own else IMPORT_NOT_YOURS


@dataclass(frozen=True)
class Row:
    """One command or button: what it is sent with, what it acts on, who may."""

    template: str  # the command's text or the button's data, with {task}, {evidence} …
    rule: Rule
    subject: str | None = None  # the kind of object that can be one's own or not


COMMANDS: dict[str, Row] = {
    "start": Row("/start", anyone),
    "help": Row("/help", anyone),
    "invite": Row("/invite 李四", only("admin")),
    "tasks": Row("/tasks", anyone),
    "task": Row("/task {task}", viewer, "task"),
    "done": Row("/done {task} 已完成", updater, "task"),
    "progress": Row("/progress {task} 50", updater, "task"),
    "note": Row("/note {task} 已汇总", updater, "task"),
    "block": Row("/block {task} 等待财政拨款", updater, "task"),
    "newtask": Row("/newtask 县教育局 | 补齐台账 | 李四 | 2026-12-30", only("admin")),
    "reassign": Row("/reassign {task} 李四", only("admin"), "task"),
    "deadline": Row("/deadline {task} 2026-12-30", only("admin"), "task"),
    "cancel": Row("/cancel {task} 重复", only("admin"), "task"),
    "undelivered": Row("/undelivered", only("admin")),
    "import": Row("/import", only("admin")),
    "export": Row("/export", only("admin", "leader")),
    "evidence": Row("/evidence {task}", viewer, "task"),
    "submit": Row("/submit {task}", updater, "task"),
    "review": Row("/review", only("admin", "unit_leader", refusal=NOT_REVIEWER)),
    "archive": Row("/archive", only("admin")),
    "quiz": Row("/quiz", anyone),
    "reviewtime": Row("/reviewtime", anyone),
    "drill": Row("/drill", anyone),
    "ask": Row("/ask 差异系数", anyone),
    "stats": Row("/stats", anyone),
    # Each sees the standings of what they oversee; an owner oversees no one.
    "rank": Row("/rank", only("admin", "leader", "unit_leader")),
    # Reports are scoped by role (an owner sees their own tasks), so everyone may ask.
    "summary": Row("/summary", anyone),
    "overdue": Row("/overdue", anyone),
    "chart": Row("/chart completion", anyone),
    "report": Row("/report", anyone),
    "bulletin": Row("/bulletin", only("admin")),
    "settings": Row("/settings", anyone),
    # Indicator data: the county's picture is the leading group's and the office's; a
    # school's figures also its principal's (without indicator data each allowed cell is
    # answered that no standard set is chosen yet).
    "certify": Row("/certify", only("admin", "leader", refusal=LEADERS_ONLY)),
    "school": Row("/school", only("admin", "leader", refusal=SCHOOL_FORBIDDEN)),
    "whatif": Row("/whatif 石门镇中心小学 图书 +3", only("admin", "leader", refusal=LEADERS_ONLY)),
    "plan": Row("/plan", only("admin", "leader", refusal=LEADERS_ONLY)),
    "indicators": Row("/indicators", only("admin", refusal=OFFICE_ONLY)),
}

CALLBACKS: dict[str, Row] = {
    "task:open": Row("task:open:{task}", viewer, "task"),
    "task:back": Row("task:back:{task}", viewer, "task"),
    "task:start": Row("task:start:{task}", updater, "task"),
    # The progress picker and the note/reason prompts change nothing; what is written
    # through them is checked as /progress, /note and /block are.
    "task:prog": Row("task:prog:{task}", anyone, "task"),
    "task:done": Row("task:done:{task}", updater, "task"),
    "task:note": Row("task:note:{task}", anyone, "task"),
    "task:block": Row("task:block:{task}", anyone, "task"),
    "task:setp": Row("task:setp:{task}:60", updater, "task"),
    "ev:up": Row("ev:up:{task}", updater, "task"),
    # One's own waiting files, onto a task one may change: a unit leader's "own" task is
    # a colleague's, which they oversee but do not change.
    "ev:pick": Row("ev:pick:{inbox}:{task}", onto_a_task_one_changes, "inbox"),
    "ev:drop": Row("ev:drop:{inbox}", owner_only(UPLOAD_GONE), "inbox"),
    # Downloading again is attaching again: the same rule as choosing the task.
    "ev:retry": Row("ev:retry:{inbox}:{task}", onto_a_task_one_changes, "inbox"),
    "ev:sub": Row("ev:sub:{task}", updater, "task"),
    "ev:ok": Row("ev:ok:{evidence}", reviewer, "evidence"),
    # Rejecting only asks for the reason; the reason's reply is the decision.
    "ev:no": Row("ev:no:{evidence}", anyone, "evidence"),
    "ev:skip": Row("ev:skip:{evidence}", only("admin", "unit_leader", refusal=NOT_REVIEWER),
                   "evidence"),
    "ev:view": Row("ev:view:{task}", viewer, "task"),
    "rem:snz": Row("rem:snz:{task}:60", updater, "task"),
    "rem:morn": Row("rem:morn:{task}", updater, "task"),
    "rem:nudge": Row("rem:nudge:{task}", nudger, "task"),
    "rep:sum": Row("rep:sum:0", anyone),
    "rep:ovd": Row("rep:ovd:0", anyone),
    "rep:unit": Row("rep:unit:{unit}", anyone, "unit"),
    "rep:ind": Row("rep:ind:{indicator}", anyone),
    "rep:bsend": Row("rep:bsend:{campaign}", only("admin")),
    "import:ok": Row("import:ok:{import}", importer, "import"),
    "import:no": Row("import:no:{import}", importer, "import"),
    "quiz:skip": Row("quiz:skip:{quiz}:{question}", owner_only(STALE), "quiz"),
    "quiz:stop": Row("quiz:stop:{quiz}", owner_only(STALE), "quiz"),
    "set:language": Row("set:language:en", anyone),
    "set:quiet": Row("set:quiet:off", anyone),
    # Pages of lists read the list again, scoped like the command that showed it.
    "page:tasks": Row("page:tasks:10", anyone),
    "page:ovd": Row("page:ovd:10", anyone),
    "page:veto": Row("page:veto:10", anyone),
    "page:unit": Row("page:unit:{unit}:10", anyone, "unit"),
    "page:ind": Row("page:ind:{indicator}:10", anyone),
    "page:pick": Row("page:pick:{inbox}:10", owner_only(UPLOAD_GONE), "inbox"),
    "page:ev": Row("page:ev:{task}:10", viewer, "task"),
    "page:rku": Row("page:rku:week:10", only("admin", "leader", "unit_leader")),
    "page:rkp": Row("page:rkp:week:10", only("admin", "leader", "unit_leader")),
    "page:ask": Row("page:ask:10", anyone),
    "page:undl": Row("page:undl:10", only("admin")),
    "page:sch": Row("page:sch:10", only("admin", "leader", refusal=SCHOOL_FORBIDDEN)),
    # A data workbook or a plan that is not there is "gone" for the office, refused to others.
    "ind:iok": Row("ind:iok:1", only("admin")),
    "ind:ino": Row("ind:ino:1", only("admin")),
    "ind:school": Row("ind:school:{unit}", only("admin", "leader", refusal=SCHOOL_FORBIDDEN),
                      "unit"),
    "ind:edit": Row("ind:edit:{unit}", school_editor, "unit"),
    "ind:field": Row("ind:field:{unit}:0:0", school_editor, "unit"),
    "ind:chart": Row("ind:chart:0", only("admin", "leader", refusal=LEADERS_ONLY)),
    "ind:plan": Row("ind:plan:0", only("admin", "leader", refusal=LEADERS_ONLY)),
    "ind:tasks": Row("ind:tasks:1", only("admin")),
    "ind:tok": Row("ind:tok:1", only("admin")),
    "ind:tno": Row("ind:tno:1", only("admin")),
}


@dataclass
class World:
    """The campaign every cell acts in; each cell makes its own objects in it."""

    h: BotHarness
    campaign_id: int
    indicator_id: int
    office: Unit
    unit: Unit  # the unit the unit leader leads; the owner and the staff member work there
    other_unit: Unit
    people: dict[str, Person]
    outsider: Person  # owns everything that is not the actor's
    second_admin: Person
    question_id: int
    files: Path
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


async def _world(h: BotHarness, tmp: Path) -> World:
    async with h.services.session() as s:
        campaign = await f.campaign(s)
        office = await f.unit(s, "迎检办")
        unit = await f.unit(s, "县教育局")
        other = await f.unit(s, "县财政局")
        indicator = await f.indicator(s, "B-3", name="图书配备")
        people = {
            "admin": await f.person(s, "王主任", unit=office, role=Role.ADMIN),
            "leader": await f.person(s, "赵县长", role=Role.LEADER),
            "unit_leader": await f.person(s, "刘局长", unit=unit),
            "responsible": await f.person(s, "张三", unit=unit),
            "staff": await f.person(s, "陈老师", unit=unit, role=Role.STAFF),
        }
        for role, person in people.items():
            person.telegram_id = TELEGRAM[role]
        unit.leader_id = people["unit_leader"].id
        await f.person(s, "李四", unit=unit)
        outsider = await f.person(s, "周五", unit=other)
        second_admin = await f.person(s, "孙副主任", unit=office, role=Role.ADMIN)
        await load_starter_if_empty(s)
        question = (await s.execute(select(Question.id).limit(1))).scalar_one()
        await s.flush()
        return World(h, campaign.id, indicator.id, office, unit, other, people, outsider,
                     second_admin, question, tmp)


async def _objects(world: World, role: str, own: bool) -> dict[str, int]:
    """Fresh objects for one cell: the actor's own, or someone else's."""
    n = next(world.counter)
    async with world.h.services.session() as s:
        actor = world.people.get(role)
        if own and actor is not None:
            # A unit leader's "own" task is one of the unit they lead.
            owner = world.people["responsible"] if role == "unit_leader" else actor
            unit = world.unit if owner.unit_id != world.office.id else world.office
        else:
            owner, unit = world.outsider, world.other_unit
        campaign = await s.get(Campaign, world.campaign_id)
        assert campaign is not None
        task = await f.task(s, campaign, unit=unit, owner=owner, title=f"任务{n}",
                            due_at=DEFAULT_NOW + timedelta(days=2))
        # The office reviews anyone's upload; anyone else's own upload is not theirs to judge.
        uploader = world.people["responsible"] if role == "admin" and own else owner
        evidence = Evidence(
            task_id=task.id, uploader_id=uploader.id, kind=EvidenceKind.PHOTO,
            file_id=f"photo-{n}", file_unique_id=f"u-{n}", file_name="", mime_type="image/jpeg",
            size=10, sha256=f"{n:064d}", chat_id=owner.telegram_id or 1, message_id=n,
            uploaded_at=DEFAULT_NOW, status=EvidenceStatus.PENDING,
        )
        inbox = EvidenceInbox(
            person_id=(actor.id if own and actor else world.outsider.id), chat_id=1,
            message_id=n, batch_key=f"b{n}", kind=EvidenceKind.PHOTO, file_id=f"in-{n}",
            file_unique_id=f"iu-{n}", received_at=DEFAULT_NOW,
        )
        table = world.files / f"table-{n}.csv"
        table.write_text(f"单位,任务,责任人,截止时间\n县教育局,导入任务{n},李四,2026-12-30\n",
                         encoding="utf-8")
        pending = PendingImport(
            token=f"t{n:031d}", person_id=(actor.id if own and actor else world.second_admin.id),
            campaign_id=world.campaign_id, file_name="table.csv", stored_path=str(table),
            created_at=DEFAULT_NOW,
        )
        quiz = QuizSession(
            person_id=(actor.id if own and actor else world.outsider.id), kind=SessionKind.QUIZ,
            chat_id=1, length=5, asked=1, current_question_id=world.question_id,
            started_at=DEFAULT_NOW,
        )
        s.add_all([evidence, inbox, pending, quiz])
        await s.flush()
        return {"task": task.id, "evidence": evidence.id, "inbox": inbox.id,
                "import": pending.id, "quiz": quiz.id, "question": world.question_id,
                "unit": (world.unit if own else world.other_unit).id,
                "indicator": world.indicator_id, "campaign": world.campaign_id}


def _said(calls: list[SentCall]) -> str:
    parts = []
    for call in calls:
        parts.append(call.text)
        if call.method == "answerCallbackQuery":
            parts.append(str(call.params.get("text", "")))
    return "\n".join(parts)


def _markers(texts: Texts, text_id: str) -> tuple[str, ...]:
    """The longest fixed part of a text in each language (its parameters vary)."""
    return tuple(max(re.split(r"\{[^}]*\}", texts.raw(lang, text_id)), key=len).strip()
                 for lang in texts.languages())


def _says(texts: Texts, text_id: str, said: str) -> bool:
    return any(marker in said for marker in _markers(texts, text_id))


def _check(texts: Texts, expected: str, calls: list[SentCall]) -> str | None:
    """None when the cell behaved as expected, else what went wrong."""
    said = _said(calls)
    shown = [i for i in REFUSALS if _says(texts, i, said)]
    if expected == SILENT:
        return None if not calls else f"expected silence, got {said[:120]!r}"
    if expected == OK:
        if not calls:
            return "expected an answer, got nothing"
        return None if not shown else f"expected OK, got {shown}: {said[:160]!r}"
    if not _says(texts, expected, said):
        return f"expected {expected}, got {shown or said[:160]!r}"
    return None


async def _run(world: World, role: str, own: bool, *, kind: str, name: str,
               in_group: bool) -> str | None:
    h = world.h
    row = (COMMANDS if kind == "command" else CALLBACKS)[name]
    ids = await _objects(world, role, own)
    text = row.template.format(**ids)
    user_id = TELEGRAM.get(role) or next(_strangers)
    user = h.updates.user(user_id)
    chat = GROUP if in_group else None
    if kind == "command":
        update = h.updates.text(user, text, chat=chat) if chat else h.updates.text(user, text)
    else:
        update = h.updates.callback(user, text, chat=chat)
    expected = _expected(row, role, own, kind=kind, name=name, in_group=in_group)
    h.request.clear()
    await h.process(update)
    problem = _check(h.services.texts, expected, list(h.request.calls))
    if problem is None:
        return None
    where = "group" if in_group else ("own" if own else "foreign")
    return f"{text} as {role} ({where}): {problem}"


def _expected(row: Row, role: str, own: bool, *, kind: str, name: str, in_group: bool) -> str:
    if role == "stranger":
        if kind == "callback":
            return "gate.unknown_user_short"  # the gate answers the press, group or not
        return SILENT if in_group else "gate.unknown_user"
    if in_group:
        if kind == "callback":
            return "gate.private_only_short"
        return OK if name in GROUP_COMMANDS else PRIVATE_ONLY
    return row.rule(role, own)


def _cells(row: Row) -> list[tuple[str, bool, bool]]:
    """(role, own, in a group) for every cell of a row."""
    owns = (True, False) if row.subject else (True,)
    return [(role, own, False) for role in ROLES for own in owns] + [
        (role, True, True) for role in ROLES]


@pytest.fixture
async def world(harness: BotHarness, tmp_path: Path) -> World:
    return await _world(harness, tmp_path)


@pytest.mark.parametrize("name", sorted(COMMANDS))
async def test_command_matrix(world: World, name: str) -> None:
    problems = [await _run(world, role, own, kind="command", name=name, in_group=group)
                for role, own, group in _cells(COMMANDS[name])]
    assert [p for p in problems if p] == []


@pytest.mark.parametrize("name", sorted(CALLBACKS))
async def test_callback_matrix(world: World, name: str) -> None:
    problems = [await _run(world, role, own, kind="callback", name=name, in_group=group)
                for role, own, group in _cells(CALLBACKS[name])]
    assert [p for p in problems if p] == []


async def test_every_command_and_button_has_a_row(harness: BotHarness) -> None:
    """A new command or callback shape fails here until the table above says who may."""
    assert registered_commands(harness.app) == set(COMMANDS)
    shapes = {f"{prefix}:{action}" for prefix, actions in SHAPES.items() for action in actions}
    assert shapes == set(CALLBACKS)
    # And every shape is answered by some handler (a shape nobody claims is dead weight).
    handlers = [h for group in harness.app.handlers.values() for h in group
                if isinstance(h, CallbackQueryHandler)]
    user = harness.updates.user(1)
    for shape in sorted(shapes):
        prefix, action = shape.split(":")
        sample = callbacks.build(prefix, action, *(
            field.low if isinstance(field, callbacks.Number) else sorted(field.choices)[0]
            for field in SHAPES[prefix][action]))
        update = harness.updates.callback(user, sample)
        assert any(h.check_update(update) for h in handlers), f"no handler claims {shape}"
