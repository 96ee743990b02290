"""Every service of the bot, built in one place before any handler is registered.

The bot (`bot.app`) and the command line (`bot.cli`) both build their services here, so
a batch job from the office sees exactly the features the running bot does.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import AppConfig
from bot.core.clock import Clock, SystemClock
from bot.core.digest import ErrorDigest
from bot.core.events import TasksChanged
from bot.core.feature import CommandSpec, Feature
from bot.core.flood import FloodControl
from bot.core.logs import Redactor
from bot.core.onboarding import OnboardingFeature
from bot.core.runtime import Core
from bot.core.scheduler import Scheduler
from bot.delivery.feature import DeliveryFeature
from bot.evidence.feature import EvidenceFeature
from bot.indicators.feature import IndicatorsFeature
from bot.quiz.feature import QuizFeature
from bot.reminders import lists as reminder_lists
from bot.reminders.service import Reminders
from bot.reports.feature import ReportsFeature
from bot.tables.feature import TablesFeature
from bot.tasks.feature import TasksFeature
from bot.texts import Texts
from db.session import Database


@dataclass(kw_only=True)
class Services(Core):
    """The shared core plus one typed attribute per feature."""

    # Who may ask how much, checked before any other work (handlers.flood).
    flood: FloodControl
    # Faults the admins hear about, as one digest per period (handlers.errors).
    errors: ErrorDigest
    onboarding: OnboardingFeature
    tasks: TasksFeature
    delivery: DeliveryFeature
    reminders: Reminders
    tables: TablesFeature
    evidence: EvidenceFeature
    quiz: QuizFeature
    reports: ReportsFeature
    indicators: IndicatorsFeature

    def features(self) -> tuple[Feature, ...]:
        """In start-up order: delivery first, so whatever the others queue is sent."""
        return (self.delivery, self.flood, self.onboarding, self.tasks, self.reminders,
                self.tables, self.evidence, self.quiz, self.indicators, self.reports)

    @property
    def commands(self) -> list[CommandSpec]:
        """Every feature's commands, in the order the menu and /help list them."""
        order = (self.onboarding, self.tasks, self.reminders, self.tables, self.evidence,
                 self.quiz, self.reports, self.indicators, self.delivery)
        return [spec for feature in order for spec in feature.commands]


def build_services(config: AppConfig, *, clock: Clock | None = None) -> Services:
    core = Core(
        config=config,
        db=Database(config.database.url),
        texts=Texts.load(config.bot.default_language),
        clock=clock or SystemClock(),
        scheduler=Scheduler(config.zone),
    )
    delivery = DeliveryFeature(core)
    reminders = Reminders(core, delivery.outbox)
    delivery.outbox.add_guard("reminder.", reminders.still_applies)
    delivery.outbox.add_guard("nudge", reminders.nudge_applies)
    delivery.outbox.add_merger(reminder_lists.KIND, reminder_lists.escalation_lists(core))
    delivery.outbox.add_merger(reminder_lists.OWNER_KIND, reminder_lists.owner_lists(core))
    core.bus.subscribe(TasksChanged, reminders.on_task_change)
    quiz = QuizFeature(core, delivery.outbox)
    flood = config.flood
    redactor = Redactor(config.secrets)
    indicators = IndicatorsFeature(core)
    return Services(
        config=core.config, db=core.db, texts=core.texts, clock=core.clock,
        scheduler=core.scheduler, bus=core.bus,
        flood=FloodControl(flood, core.db),
        errors=ErrorDigest(gather_seconds=flood.error_gather_seconds,
                           period_seconds=flood.error_digest_minutes * 60,
                           redact=redactor.redact),
        onboarding=OnboardingFeature(),
        tasks=TasksFeature(core, delivery.outbox),
        delivery=delivery,
        reminders=reminders,
        tables=TablesFeature(core),
        evidence=EvidenceFeature(core, delivery.outbox),
        quiz=quiz,
        reports=ReportsFeature(core, delivery.outbox, quiz.readiness, indicators.certification),
        indicators=indicators,
    )
