"""The breakdown-table feature as the application sees it."""

from __future__ import annotations

from bot.core.feature import LEADERS, OFFICE, CommandSpec
from bot.core.runtime import Core


class TablesFeature:
    """Import and export of the task breakdown table; the workflow is in `bot.tables.pending`."""

    commands = (
        CommandSpec("import", "tables.cmd.import", OFFICE),
        CommandSpec("export", "tables.cmd.export", LEADERS),
    )

    def __init__(self, core: Core) -> None:
        self.core = core

    async def start(self) -> None:
        """Pending imports live in the database; nothing to resume."""

    async def stop(self) -> None:
        """Nothing held in memory."""
