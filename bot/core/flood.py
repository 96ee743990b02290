"""Flood control: how much each sender may ask of the bot, decided before any other work.

Every update from a person takes a token from that person's bucket; an update that finds
the bucket empty is dropped unanswered (answering would be the work a flood wants). A
sender the bot does not know as linked also takes from one bucket all strangers share,
so neither one account nor many new ones can keep the bot busy. Everything here is in
memory and per process: a restart forgets the buckets, which only makes it lenient.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.config import FloodConfig
from bot.core.feature import CommandSpec
from db.repositories import people as people_repo
from db.session import Database

log = logging.getLogger(__name__)

# Idle buckets are forgotten once this many senders are tracked (a full bucket is the
# same as none).
PRUNE_ABOVE = 5000
# Telegram's largest album.
ALBUM_SIZE = 10


@dataclass
class TokenBucket:
    """`capacity` tokens, refilled at `rate` per second."""

    capacity: float
    rate: float
    tokens: float
    stamp: float

    @classmethod
    def full(cls, capacity: float, per_minute: float, now: float) -> TokenBucket:
        return cls(capacity, per_minute / 60, capacity, now)

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = max(self.stamp, now)

    def peek(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= 1

    def take(self, now: float) -> bool:
        self._refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def is_full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.capacity


@dataclass
class _Sender:
    bucket: TokenBucket
    album: str | None = None
    album_items: int = 0
    dropping: bool = False
    answered_at: float | None = None


class FloodControl:
    """Admits or drops each sender's updates; remembers who is linked."""

    def __init__(self, config: FloodConfig, db: Database,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self._senders: dict[int, _Sender] = {}
        self._known: set[int] = set()
        self._strangers = TokenBucket.full(config.strangers_burst, config.strangers_per_minute,
                                           clock())
        self.dropped = 0

    # The Feature protocol: no commands; who is linked is loaded at start-up.
    commands: tuple[CommandSpec, ...] = ()

    async def start(self) -> None:
        async with self.db.session() as session:
            self._known = set(await people_repo.linked_telegram_ids(session=session))

    async def stop(self) -> None:
        """Buckets are not worth keeping across a restart."""

    def mark_linked(self, telegram_id: int) -> None:
        if telegram_id not in self._known:
            # Linked just now: from here on a person's budget, not a stranger's.
            self._known.add(telegram_id)
            self._senders.pop(telegram_id, None)

    def mark_stranger(self, telegram_id: int) -> None:
        self._known.discard(telegram_id)

    def admit(self, telegram_id: int, *, album: str | None = None) -> bool:
        """Whether this update may be processed; False means drop it without an answer."""
        now = self.clock()
        known = telegram_id in self._known
        sender = self._sender(telegram_id, known, now)
        if album is not None and album == sender.album and sender.album_items < ALBUM_SIZE:
            # The rest of an album admitted with its first item.
            sender.album_items += 1
            return True
        admitted = sender.bucket.peek(now) and (known or self._strangers.take(now))
        if admitted:
            sender.bucket.take(now)
            sender.album, sender.album_items = album, 1
        self._note(telegram_id, sender, admitted)
        return admitted

    def may_answer_stranger(self, telegram_id: int) -> bool:
        """A stranger hears how to get an invite at most once per period."""
        now = self.clock()
        sender = self._sender(telegram_id, False, now)
        period = self.config.stranger_answer_minutes * 60
        if sender.answered_at is not None and now - sender.answered_at < period:
            return False
        sender.answered_at = now
        return True

    def _sender(self, telegram_id: int, known: bool, now: float) -> _Sender:
        sender = self._senders.get(telegram_id)
        if sender is None:
            if len(self._senders) >= PRUNE_ABOVE:
                self._prune(now)
            cfg = self.config
            bucket = (TokenBucket.full(cfg.burst, cfg.per_minute, now) if known
                      else TokenBucket.full(cfg.stranger_burst, cfg.stranger_per_minute, now))
            sender = self._senders[telegram_id] = _Sender(bucket)
        return sender

    def _prune(self, now: float) -> None:
        period = self.config.stranger_answer_minutes * 60
        for telegram_id, sender in list(self._senders.items()):
            recently_answered = sender.answered_at is not None and now - sender.answered_at < period
            if sender.bucket.is_full(now) and not recently_answered:
                del self._senders[telegram_id]

    def _note(self, telegram_id: int, sender: _Sender, admitted: bool) -> None:
        if not admitted:
            self.dropped += 1
        if admitted == sender.dropping:
            # One line when a sender starts being dropped and one when they are let in
            # again, not one per update.
            sender.dropping = not admitted
            if sender.dropping:
                log.info("flood control: dropping updates from user %s", telegram_id)
            else:
                log.info("flood control: user %s admitted again", telegram_id)
