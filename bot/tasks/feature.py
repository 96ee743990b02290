"""The tasks feature as the application sees it."""

from __future__ import annotations

from bot.core.feature import ALL_ROLES, OFFICE, CommandSpec
from bot.core.runtime import Core
from bot.delivery.outbox import Outbox
from bot.tasks import assignments
from bot.tasks.assignments import AssignmentNotices


class TasksFeature:
    """Owners' and the office's task commands; the rules are in `bot.tasks.service`."""

    commands = (
        CommandSpec("tasks", "cmd.tasks", ALL_ROLES),
        CommandSpec("task", "cmd.task", ALL_ROLES),
        CommandSpec("progress", "cmd.progress", ALL_ROLES),
        CommandSpec("done", "cmd.done", ALL_ROLES),
        CommandSpec("note", "cmd.note", ALL_ROLES),
        CommandSpec("block", "cmd.block", ALL_ROLES),
        CommandSpec("newtask", "cmd.newtask", OFFICE),
        CommandSpec("reassign", "cmd.reassign", OFFICE),
        CommandSpec("deadline", "cmd.deadline", OFFICE),
        CommandSpec("cancel", "cmd.cancel", OFFICE),
    )

    def __init__(self, core: Core, outbox: Outbox) -> None:
        self.core = core
        # New owners are told in the unit of work that gave them the task.
        self.assignments = AssignmentNotices(core, outbox)
        core.bus.before_commit(self.assignments.on_changes)
        outbox.add_guard(assignments.KIND, self.assignments.still_theirs)

    async def start(self) -> None:
        """Tasks keep no timers of their own."""

    async def stop(self) -> None:
        """Tasks keep no timers of their own."""
