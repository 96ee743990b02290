"""The delivery feature: the outbox every feature queues into, and its dispatcher."""

from __future__ import annotations

from telegram import Bot

from bot.core.arguments import Words
from bot.core.feature import OFFICE, CommandSpec
from bot.core.runtime import Core
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.outbox import Outbox
from bot.delivery.transport import AiohttpRequest

API_URL = "https://api.telegram.org/bot"
FILE_URL = "https://api.telegram.org/file/bot"
UNDELIVERED_WORDS = Words({"retry": ("重发",)})


class DeliveryFeature:
    """Owns the outbox and the dispatcher; the dispatcher runs only in the bot process."""

    commands = (CommandSpec("undelivered", "reminders.cmd.undelivered", OFFICE,
                            UNDELIVERED_WORDS),)

    def __init__(self, core: Core) -> None:
        config = core.config
        self.core = core
        self.outbox = Outbox(core.clock)
        self.dispatcher = Dispatcher(
            db=core.db, outbox=self.outbox, clock=core.clock,
            config=config.reminders.delivery, texts=core.texts,
            admin_ids=config.telegram.admin_ids,
        )
        self._bot: Bot | None = None

    async def start(self) -> None:
        # The dispatcher has its own Bot without PTB's rate limiter: its throttle is the
        # one limit for unprompted messages, and a second limiter in series bunches
        # requests up into exactly the bursts Telegram answers with 429.
        telegram = self.core.config.telegram
        bot = Bot(
            telegram.bot_token,
            base_url=telegram.base_url or API_URL,
            base_file_url=telegram.base_file_url or FILE_URL,
            request=AiohttpRequest(connection_pool_size=64),
        )
        await bot.initialize()
        self._bot = bot
        await self.dispatcher.start(bot)

    async def stop(self) -> None:
        await self.dispatcher.stop()
        if self._bot is not None:
            await self._bot.shutdown()
            self._bot = None
