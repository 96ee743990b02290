"""The quiz feature as the application sees it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger

from bot.core.arguments import Words
from bot.core.feature import ALL_ROLES, LEADERS, CommandSpec
from bot.core.runtime import Core
from bot.delivery.outbox import Outbox
from bot.quiz import bank, reminders
from bot.quiz.lexicon import load_lexicon
from bot.quiz.readiness import ReadinessCache
from bot.quiz.session import QuizRuntime

READINESS_JOB = "quiz:readiness"
READINESS_FIRST_AFTER = timedelta(seconds=2)  # the scheduler's own (real) time
RANK_WORDS = Words({"week": ("本周", "周"), "all": ("总体", "全部")})
REVIEWTIME_WORDS = Words({"off": ("关闭", "关")})


class QuizFeature:
    """Polls, drills and search; the daily review reminder; the readiness snapshot."""

    commands = (
        CommandSpec("quiz", "quiz.cmd.quiz", ALL_ROLES),
        CommandSpec("reviewtime", "quiz.cmd.reviewtime", ALL_ROLES, REVIEWTIME_WORDS),
        CommandSpec("drill", "quiz.cmd.drill", ALL_ROLES),
        CommandSpec("ask", "quiz.cmd.ask", ALL_ROLES),
        CommandSpec("stats", "quiz.cmd.stats", ALL_ROLES),
        CommandSpec("rank", "quiz.cmd.rank", LEADERS, RANK_WORDS),
    )

    def __init__(self, core: Core, outbox: Outbox, runtime: QuizRuntime | None = None) -> None:
        self.core = core
        self.outbox = outbox
        self.runtime = runtime or QuizRuntime(
            lexicon=load_lexicon(core.config.quiz.synonyms_file))
        self.readiness = ReadinessCache(
            zone=core.config.zone,
            threshold=core.config.quiz.mastery_threshold,
            srs=self.runtime.srs,
        )
        outbox.add_guard(reminders.KIND, reminders.still_due)

    async def refresh_readiness(self) -> None:
        async with self.core.session() as session:
            await self.readiness.refresh(session, self.core.clock.now())

    async def start(self) -> None:
        if self.core.config.quiz.load_starter_bank:
            async with self.core.session() as session:
                await bank.load_starter_if_empty(session)
        reminders.schedule(self.core, self.outbox)
        # Every few minutes in the background, so a leader's /summary reads a snapshot —
        # the first one right after start, so no reader pays for computing it.
        first = datetime.now(UTC) + READINESS_FIRST_AFTER
        self.core.scheduler.put(READINESS_JOB, self.refresh_readiness,
                                IntervalTrigger(minutes=5, start_date=first))

    async def stop(self) -> None:
        """The jobs stop with the scheduler; cards and sessions are in the database."""
