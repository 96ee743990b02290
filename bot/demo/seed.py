"""The demo's first run: the sample campaign loaded and brought to mid-flight.

`seed_demo` loads the sample (already dated around `today`), links the roster to demo
users, then replays the history that `bot.demo.story` plans — starts, progress reports,
evidence photos uploaded, submitted, approved or rejected, tasks blocked. Each step goes
through the service the bot itself calls for it (the import, `bot.tasks.service`, the
evidence upload and review services), on a frozen clock set to the step's moment, so the
task history and the evidence store are what real use would have left behind. The
county's indicator data (`examples/school-data.xlsx`) is imported on the first morning,
as the office would. Three weeks of quiz practice follow, scheduled by the bot's own FSRS
(`bot.demo.practice`), over the shipped bank and the questions drawn from the figures.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fsrs import Scheduler
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from bot.core.access import Actor, actor_for
from bot.core.clock import FrozenClock
from bot.demo.cast import link_roster
from bot.demo.photos import evidence_photo
from bot.demo.practice import BankQuestion, practise
from bot.demo.sample import Sample
from bot.demo.story import Act, History, Step, TaskFacts, at_minutes, plan_history, plan_practice
from bot.evidence import review
from bot.evidence.batch import IncomingFile
from bot.evidence.uploads import EvidenceService
from bot.quiz import bank
from bot.quiz import srs as srs_service
from bot.quiz.srs import OPEN_KINDS, POLL_KINDS, Srs
from bot.services import Services, build_services
from bot.tables import setup as campaign_setup
from bot.tables.importer import apply_import
from bot.tables.planner import ImportOptions
from bot.tasks import service as task_service
from db.models import EvidenceKind, EvidenceStatus, Role, Task, TaskStatus
from db.repositories import campaigns as campaigns_repo
from db.repositories import demo as demo_repo
from db.repositories import evidence as evidence_repo
from db.repositories import people as people_repo
from db.repositories import quiz as quiz_repo
from db.repositories import tasks as tasks_repo

# The breakdown table arrives on the first morning of the campaign.
IMPORT_AT_MINUTES = 9 * 60


class SeedError(RuntimeError):
    """The sample could not be brought to mid-flight (a bug, never the user's doing)."""


@dataclass(frozen=True)
class Seeded:
    """What the first run made, for the start-up message and the tests."""

    today: date
    inspection_date: date | None
    tasks: int
    statuses: dict[TaskStatus, int]
    evidence: int
    quiz_answers: int


def seed_rng(today: date) -> random.Random:
    """One generator per start date: the same day always tells the same story."""
    return random.Random(f"inspectbot-demo:{today.isoformat()}")


def _facts(task: Task, zone: ZoneInfo) -> TaskFacts:
    due = task.due_at.astimezone(zone).date() if task.due_at else None
    return TaskFacts(
        id=task.id, unit_id=task.unit_id, due=due,
        phase_start=task.phase.starts_on if task.phase else None,
        evidence_required=task.evidence_required,
        veto=bool(task.indicator and task.indicator.veto),
    )


@dataclass(frozen=True)
class _TaskRef:
    """What the replay needs of a task between steps: who acts on it, its sign."""

    key: str
    owner_id: int | None
    unit_leader_id: int | None


class _Replay:
    """Plays planned steps through the services, the clock set to each step's moment."""

    def __init__(
        self, services: Services, clock: FrozenClock, tasks: dict[int, _TaskRef],
        actors: dict[int, Actor], office_ids: list[int],
    ) -> None:
        self.services = services
        self.clock = clock
        self.zone = services.config.zone
        self.tasks = tasks
        self.actors = actors
        self.office_ids = office_ids
        # Its own sessions, not the bus-publishing ones: the reminders derive everything
        # afresh when the bot starts, so they need not hear of history being written.
        self.evidence = EvidenceService(
            session=services.db.session, store=services.evidence.store,
            config=services.config, now=clock.now,
        )
        self._message_ids = itertools.count(101)
        self._albums = itertools.count(1)
        self._downloads: dict[str, bytes] = {}

    def owner(self, task_id: int) -> Actor:
        return self.actors[self.tasks[task_id].owner_id or self.office_ids[0]]

    def reviewer(self, task_id: int, uploader_id: int | None) -> Actor:
        """The unit's leader, unless they uploaded it themselves; then the office."""
        leader_id = self.tasks[task_id].unit_leader_id
        if leader_id is not None and leader_id != uploader_id:
            return self.actors[leader_id]
        office = next((i for i in self.office_ids if i != uploader_id), self.office_ids[0])
        return self.actors[office]

    async def play(self, steps: Sequence[Step]) -> None:
        """Every step in order; one unit of work per day, except uploads, which the
        evidence service does in units of work of its own (as it does for the bot)."""
        index = 0
        while index < len(steps):
            if steps[index].act is Act.UPLOAD:
                self.clock.set(steps[index].at)
                await self._upload(steps[index])
                index += 1
                continue
            day = steps[index].at.date()
            async with self.services.db.session() as session:
                while (index < len(steps) and steps[index].act is not Act.UPLOAD
                       and steps[index].at.date() == day):
                    await self._one(session, steps[index])
                    index += 1

    async def _one(self, session: AsyncSession, step: Step) -> None:
        self.clock.set(step.at)
        now, task_id = step.at, step.task_id
        owner = self.owner(task_id)
        if step.act is Act.START:
            await task_service.start(session, owner, task_id, now)
        elif step.act is Act.PROGRESS:
            await task_service.set_progress(session, owner, task_id, step.percent, now,
                                            step.text)
        elif step.act is Act.BLOCK:
            await task_service.block(session, owner, task_id, step.text, now)
        elif step.act is Act.SUBMIT:
            await task_service.submit(session, owner, task_id, now)
        elif step.act is Act.COMPLETE:
            await task_service.complete(session, owner, task_id, now, step.text)
        elif step.act in (Act.APPROVE, Act.REJECT):
            await self._review(session, step)

    async def _review(self, session: AsyncSession, step: Step) -> None:
        waiting = await evidence_repo.evidence_of_task(
            session=session, task_id=step.task_id, statuses=(EvidenceStatus.PENDING,)
        )
        if step.act is Act.REJECT:
            waiting = waiting[:1]
        for offset, item in enumerate(waiting):
            reviewer = self.reviewer(step.task_id, item.uploader_id)
            at = step.at + timedelta(seconds=20 * offset)
            if step.act is Act.REJECT:
                await review.reject(session, reviewer, item.id, step.text, at)
            else:
                await review.approve(session, reviewer, item.id, at)

    async def _fetch(self, file_id: str, target: Path) -> None:
        """Stands in for the download from Telegram: the photo the owner just sent."""
        await asyncio.to_thread(target.write_bytes, self._downloads.pop(file_id))

    async def _upload(self, step: Step) -> None:
        """The owner sends photos with `#<task>` in the caption, as an album if several."""
        task_id, owner = step.task_id, self.owner(step.task_id)
        album = f"demo-album-{next(self._albums)}" if step.files > 1 else None
        batch = ""
        for index in range(step.files):
            taken = (step.at - timedelta(minutes=25 + 3 * index)).astimezone(self.zone)
            data = evidence_photo(f"{task_id}:{step.at.isoformat()}:{index}",
                                  f"{self.tasks[task_id].key}  #{task_id}", taken)
            digest = hashlib.sha256(data).hexdigest()
            file = IncomingFile(
                kind=EvidenceKind.PHOTO, file_id=f"demo-photo-{digest[:40]}",
                file_unique_id=f"demo-{digest[:24]}", file_name="", mime_type="image/jpeg",
                size=len(data), caption=f"#{task_id} {step.text}" if index == 0 else "",
                chat_id=owner.telegram_id or 0, message_id=next(self._message_ids),
                media_group_id=album, named_task_id=task_id,
            )
            self._downloads[file.file_id] = data
            batch = await self.evidence.receive(owner, file)
        outcome = await self.evidence.process_batch(owner.person_id, batch, self._fetch)
        if outcome is None or outcome.error is not None or len(outcome.attached) != step.files:
            raise SeedError(f"evidence for task {task_id} was not attached: {outcome!r}")


async def _practise(services: Services, today: date, rng: random.Random) -> int:
    """Three weeks of quiz practice by the people the plan picks; how many answers."""
    # Without fuzzing FSRS schedules the same way every time: one date, one history.
    srs = Srs(Scheduler(enable_fuzzing=False))
    async with services.db.session() as session:
        people = [(p.id, p.role) for p in await people_repo.linked_persons(session=session)]
        questions = sorted(await quiz_repo.all_questions(session=session),
                           key=lambda q: (q.difficulty, q.key))
    polls = [BankQuestion(q.id, srs_service.reading_chars(q))
             for q in questions if q.kind in POLL_KINDS]
    drills = [BankQuestion(q.id, srs_service.reading_chars(q))
              for q in questions if q.kind in OPEN_KINDS]
    answers = 0
    for plan in plan_practice(people, today=today, rng=rng):
        rows = practise(plan, polls, drills, srs=srs, rng=rng, zone=services.config.zone)
        async with services.db.session() as session:
            await demo_repo.add_quiz_history(session=session, cards=rows.cards,
                                             reviews=rows.reviews)
        answers += len(rows.reviews)
    return answers


async def seed_demo(config: AppConfig, sample: Sample, today: date) -> Seeded:
    """Fill the migrated, empty database of `config` with the sample in motion."""
    zone = config.zone
    rng = seed_rng(today)
    start = sample.starts_on or today - timedelta(days=90)
    clock = FrozenClock(at_minutes(start, IMPORT_AT_MINUTES, zone))
    services = build_services(config, clock=clock)
    try:
        async with services.db.session() as session:
            await campaign_setup.apply_setup(session, sample.setup, "campaign.toml")
            office = [p.id for p in await people_repo.persons_with_role(
                session=session, roles=(Role.ADMIN,))]
            if not office:
                raise SeedError("the sample roster has nobody of the office (role admin)")
            await apply_import(
                session, sample.table, sample.table_name, ImportOptions.from_config(config),
                actor_id=office[0], now=clock.now(),
            )
            await link_roster(session)
        if config.quiz.load_starter_bank:
            # Before the county's figures: the questions drawn from them join the shipped
            # bank, which is only ever loaded into an empty one.
            async with services.db.session() as session:
                await bank.load_starter_if_empty(session)
        # The county's school figures, survey, budgets and self-assessment, reported at the
        # start of the campaign: the leaders' first /summary opens with the certification.
        await services.indicators.load_sample()
        async with services.db.session() as session:
            campaign = await campaigns_repo.active_campaign(session=session)
            if campaign is None:
                raise SeedError("the sample set up no campaign")
            tasks = await tasks_repo.tasks_of_campaign(session=session, campaign_id=campaign.id)
            facts = [_facts(t, zone) for t in tasks]
            refs = {t.id: _TaskRef(t.key, t.owner_id, t.unit.leader_id) for t in tasks}
            actors = {p.id: await actor_for(session=session, person=p)
                      for p in await people_repo.all_persons(session=session)}
        history: History = plan_history(facts, campaign_start=start, today=today, zone=zone,
                                        rng=rng)
        await _Replay(services, clock, refs, actors, office).play(history.steps)

        answers = await _practise(services, today, rng) if config.quiz.load_starter_bank else 0

        async with services.db.session() as session:
            tasks = await tasks_repo.tasks_of_campaign(session=session, campaign_id=campaign.id)
            statuses = Counter(t.status for t in tasks)
            evidence = 0
            for task in tasks:
                evidence += len(await evidence_repo.evidence_of_task(session=session,
                                                                     task_id=task.id))
        return Seeded(today, campaign.inspection_date, len(tasks), dict(statuses), evidence,
                      answers)
    finally:
        await services.db.dispose()
