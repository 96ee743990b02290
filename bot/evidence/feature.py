"""The evidence feature as the application sees it."""

from __future__ import annotations

import asyncio
import logging

from bot.core.feature import ALL_ROLES, OFFICE, CommandSpec
from bot.core.runtime import Core
from bot.delivery.outbox import Outbox
from bot.evidence.albums import Debouncer
from bot.evidence.backends import evidence_store
from bot.evidence.store import EvidenceStore, StorageError
from bot.evidence.uploads import EvidenceService
from db.models import Role

log = logging.getLogger(__name__)

REVIEWERS = frozenset({Role.ADMIN, Role.LEADER, Role.RESPONSIBLE})


class EvidenceFeature:
    """Uploads, the album timers, review notices and one archive build at a time."""

    commands = (
        CommandSpec("evidence", "evidence.cmd.evidence", ALL_ROLES),
        CommandSpec("submit", "evidence.cmd.submit", ALL_ROLES),
        CommandSpec("review", "evidence.cmd.review", REVIEWERS),
        CommandSpec("archive", "evidence.cmd.archive", OFFICE),
    )

    def __init__(self, core: Core, outbox: Outbox, store: EvidenceStore | None = None) -> None:
        config = core.config
        self.core = core
        self.outbox = outbox
        self.store = store or evidence_store(config.storage)
        self.service = EvidenceService(
            session=core.session, store=self.store, config=config, now=core.clock.now,
        )
        self.albums = Debouncer(config.evidence.album_window_seconds)
        # One archive at a time: two 2 GB builds at once would only slow each other.
        self.archive_lock = asyncio.Lock()

    async def start(self) -> None:
        """Say at once when the store is out of reach; the bot serves everything else.

        Albums cut short by a restart are finished by the Telegram edge, which answers.
        """
        try:
            await asyncio.to_thread(self.store.check)
        except StorageError as exc:
            log.error("evidence storage (%s) is not usable: %s", self.store.describe(), exc)
        else:
            log.info("evidence storage: %s", self.store.describe())

    async def stop(self) -> None:
        self.albums.cancel_all()
        await asyncio.to_thread(self.store.close)
