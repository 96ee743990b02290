"""The dispatcher: the one sender of everything the bot sends unprompted.

Features queue messages in the outbox (`bot.delivery.outbox`, in their own transaction);
the dispatcher claims due rows, sends them within Telegram's limits and settles each one
in its own short transaction: sent, retried, or recorded as failed and shown to the office.
See docs/reminders.md, "Delivery API".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import random
import socket
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.config import DeliveryConfig
from bot.core.clock import Clock
from bot.delivery.limits import Throttle
from bot.delivery.outbox import Outbox
from bot.texts import Texts
from db.models import OutboxMessage, OutboxState, Role
from db.repositories import delivery as outbox_repo
from db.repositories import people as people_repo
from db.session import Database

log = logging.getLogger(__name__)

OFFICE_KIND = "office."
# A chat's queue in memory stays short, so one slow chat cannot hold every slot.
PER_CHAT_QUEUE = 3
# A flood wait longer than this gives the message back rather than holding its slot.
MAX_INLINE_FLOOD_WAIT = 60.0


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def backoff(attempt: int) -> float:
    """Seconds before retry number `attempt` (1-based): 0.5, 1, 2, 4 … capped, jittered."""
    base = min(30.0, 0.5 * 2.0 ** (attempt - 1))
    return base * random.uniform(0.8, 1.2)


class Dispatcher:
    """Claims due outbox rows, sends them within the limits, settles each one."""

    def __init__(
        self,
        *,
        db: Database,
        outbox: Outbox,
        clock: Clock,
        config: DeliveryConfig,
        texts: Texts,
        admin_ids: Sequence[int] = (),
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.clock = clock
        self.config = config
        self.texts = texts
        self.admin_ids = tuple(admin_ids)
        self.worker = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.throttle = Throttle(
            per_second=config.global_per_second,
            private_per_second=config.private_per_second,
            group_per_minute=config.group_per_minute,
        )
        self.stats: Counter[str] = Counter()
        # Seconds spent: claiming, on the wire, settling, and the pacer's waits by cause
        # (the overall window, per-chat limits, turns in progress, nothing to send).
        self.timings: defaultdict[str, float] = defaultdict(float)
        self.unreachable: set[int] = set()
        self._wake = asyncio.Event()
        # Claimed rows per chat, in sending order; a chat with a turn is being sent to.
        self._queues: dict[int, deque[OutboxMessage]] = {}
        self._turns: dict[int, asyncio.Task[None]] = {}
        self._attempts: dict[int, int] = {}
        self._redirect: dict[int, int] = {}
        self._kick = asyncio.Event()
        self._low_water = max(1, config.max_inflight // 2)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._bot: Bot | None = None
        outbox.on_commit(self.wake)

    def wake(self) -> None:
        """Look for due messages now (after queueing from outside `enqueue`, say)."""
        self._wake.set()

    # Dispatcher lifecycle -----------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def yield_to_reply(self, chat_id: int, seconds: float) -> None:
        """A reply to someone in this chat was told to wait: send nothing there for a while,
        so the reply gets the chat's next turn."""
        self.throttle.pause(chat_id, seconds)

    async def start(self, bot: Bot) -> None:
        if self.running:
            return
        self._bot = bot
        self._stopping = False
        async with self.db.session() as session:
            self.unreachable = await outbox_repo.unreachable_ids(session=session)
        self._task = asyncio.create_task(self._run(), name=f"delivery {self.worker}")

    async def stop(self) -> None:
        """Finish the sends in flight, give every other claimed message back, stop."""
        self._stopping = True
        self._wake.set()
        self._kick.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def wait_idle(self, timeout: float = 30.0) -> bool:  # noqa: ASYNC109
        """True once nothing is due or in hand (tests and benchmarks)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if not self._queues:
                async with self.db.session() as session:
                    if await outbox_repo.count_due(session=session, now=self.clock.now()) == 0:
                        return True
            await asyncio.sleep(0.05)
        return False

    def _buffered(self) -> int:
        return sum(len(q) for q in self._queues.values())

    async def _run(self) -> None:
        pump = asyncio.create_task(self._pump(), name=f"delivery pump {self.worker}")
        try:
            await self._claim_loop()
        finally:
            self._stopping = True
            self._kick.set()
            await asyncio.gather(pump, return_exceptions=True)
            await self._wind_down()

    async def _claim_loop(self) -> None:
        lease = timedelta(seconds=self.config.lease_seconds)
        renew_every = self.config.lease_seconds / 3
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        while not self._stopping:
            self._wake.clear()
            room = self.config.max_inflight - self._buffered()
            if room > 0:
                try:
                    await self._claim(room, lease)
                except Exception:
                    log.exception("claiming outbox messages failed; retrying")
            if loop.time() - renewed > renew_every:
                renewed = loop.time()
                try:
                    await self._renew(lease)
                except Exception:
                    log.exception("renewing outbox leases failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_seconds)

    async def _claim(self, limit: int, lease: timedelta) -> int:
        busy = [chat for chat, q in self._queues.items() if len(q) >= PER_CHAT_QUEUE]
        started = time.perf_counter()
        async with self.db.session() as session:
            rows = await outbox_repo.claim(
                session=session, worker=self.worker, now=self.clock.now(), lease=lease,
                limit=limit, skip_chats=busy,
            )
        self.timings["claim"] += time.perf_counter() - started
        self.stats["claims"] += 1
        held = {r.id for q in self._queues.values() for r in q}
        for row in rows:
            if row.id in held:
                # Our own lease ran out while the row waited here (a long flood wait);
                # the claim just renewed it, and it must not be queued twice.
                continue
            self._queues.setdefault(row.chat_id, deque()).append(row)
        if rows:
            self._kick.set()
        return len(rows)

    async def _renew(self, lease: timedelta) -> None:
        ids = [row.id for q in self._queues.values() for row in q]
        async with self.db.session() as session:
            await outbox_repo.renew(
                session=session, message_ids=ids, worker=self.worker,
                until=self.clock.now() + lease,
            )

    async def _wind_down(self) -> None:
        # Turns already started finish and settle (their request may be on the wire), so
        # a stop neither loses nor repeats a message; the rest goes back at once.
        await asyncio.gather(*self._turns.values(), return_exceptions=True)
        left = [row.id for q in self._queues.values() for row in q]
        self._queues.clear()
        self._turns.clear()
        self._attempts.clear()
        self._redirect.clear()
        if left:
            async with self.db.session() as session:
                await outbox_repo.release(session=session, message_ids=left, worker=self.worker)

    # Pacing ----------------------------------------------------------------------------

    async def _pump(self) -> None:
        """Start a send whenever the limits allow one, to the chat whose next message is
        oldest among those that may receive one now. Sends to different chats overlap;
        each chat has at most one turn at a time, so its messages keep their order, and
        oldest-first keeps the chats advancing together instead of leaving a few chats'
        backlog (at one a second each) for the end."""
        while not self._stopping:
            self._kick.clear()
            try:
                wait, cause = self._start_next()
            except Exception:
                # Nothing may be sent while the pacer is down; never let it die quietly.
                log.exception("outbox pacer failed; going on in a second")
                wait, cause = 1.0, "wait_error"
            if wait <= 0:
                continue
            started = time.perf_counter()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), None if math.isinf(wait) else wait)
            self.timings[cause] += time.perf_counter() - started

    def _start_next(self) -> tuple[float, str]:
        """Start one send if the limits allow; else how long to wait, and why."""
        now = self.throttle.clock()
        wait = self.throttle.global_wait(now)
        if wait > 0:
            return wait, "wait_global"
        chat_id, wait = self._next_chat(now)
        if chat_id is not None:
            self.throttle.begin(chat_id)
            self._turns[chat_id] = asyncio.create_task(self._turn(chat_id))
            return 0.0, "sending"
        if wait < math.inf:
            return wait, "wait_chat"
        return wait, "wait_turns" if self._turns else "wait_idle"

    def _next_chat(self, now: float) -> tuple[int | None, float]:
        """The chat to send to now, or None and how long until one may receive."""
        chosen: int | None = None
        oldest: tuple[datetime, int] | None = None
        soonest = math.inf
        for chat_id, queue in self._queues.items():
            if chat_id in self._turns or not queue:
                continue
            wait = self.throttle.chat_wait(chat_id, now)
            if wait > 0:
                soonest = min(soonest, wait)
                continue
            head = (queue[0].not_before, queue[0].id)
            if oldest is None or head < oldest:
                chosen, oldest = chat_id, head
        return chosen, 0.0 if chosen is not None else soonest

    async def _turn(self, chat_id: int) -> None:
        """One attempt at the chat's first message; it leaves the queue once settled."""
        queue = self._queues[chat_id]
        row = queue[0]
        try:
            settled = await self._attempt(row, chat_id)
        except Exception:
            # A database hiccup while settling: leave the row claimed; its lease runs
            # out and it is tried again.
            log.exception("delivering outbox message %s failed", row.id)
            settled = True
        finally:
            self._turns.pop(chat_id, None)
        if settled:
            queue.popleft()
            self._attempts.pop(row.id, None)
        if not queue:
            self._queues.pop(chat_id, None)
            self._redirect.pop(chat_id, None)
            self.throttle.forget(chat_id)
        if self._buffered() <= self._low_water:
            # Claim in batches, not one transaction per message sent.
            self._wake.set()
        self._kick.set()

    # One message ---------------------------------------------------------------------

    async def _still_wanted(self, row: OutboxMessage) -> bool:
        guards = self.outbox.guards_for(row.kind)
        if not guards:
            return True
        async with self.db.session() as session:
            for guard in guards:
                if not await guard(session, row, self.clock.now()):
                    return False
        return True

    async def _attempt(self, row: OutboxMessage, chat_id: int) -> bool:
        """Send once in the slot the pump took; True when the row is settled."""
        try:
            wanted = await self._still_wanted(row)
        except BaseException:
            self.throttle.cancel(chat_id)
            raise
        if not wanted:
            self.throttle.cancel(chat_id)
            await self._finish(row, OutboxState.CANCELLED, "no longer applies", row.attempts)
            return True
        telegram_id: int | None = None
        error: Exception | None = None
        started = time.perf_counter()
        try:
            telegram_id = await self._send(row, self._redirect.get(chat_id, chat_id))
        except (TelegramError, OSError) as exc:  # OSError: an attachment gone from disk
            error = exc
        finally:
            self.throttle.answered(chat_id)
            self._kick.set()
            answered = time.perf_counter()
            self.timings["http"] += answered - started
        if error is not None:
            return await self._refused(row, chat_id, error)
        async with self.db.session() as session:
            await outbox_repo.mark_sent(
                session=session, message_id=row.id, worker=self.worker,
                now=self.clock.now(), telegram_id=telegram_id,
            )
        self.timings["settle"] += time.perf_counter() - answered
        self.stats["sent"] += 1
        return True

    async def _refused(self, row: OutboxMessage, chat_id: int, exc: Exception) -> bool:
        """Settle or schedule a retry after an error; True when the row is settled."""
        attempts = self._attempts.get(row.id, row.attempts)
        if isinstance(exc, RetryAfter):
            # A retry costs no attempt; the chat waits exactly as long as Telegram asked.
            wait = _seconds(exc.retry_after)
            self.stats["flood_waits"] += 1
            self.throttle.pause(chat_id, wait)
            if wait > MAX_INLINE_FLOOD_WAIT:
                await self._release(row, self.clock.now() + timedelta(seconds=wait))
                return True
            return False
        if isinstance(exc, ChatMigrated):
            self._redirect[chat_id] = exc.new_chat_id
            return False
        if isinstance(exc, Forbidden):
            await self._finish(row, OutboxState.DEAD, str(exc), attempts + 1)
            await self._unreachable(row)
            return True
        if isinstance(exc, BadRequest | OSError):
            error = str(exc) if isinstance(exc, BadRequest) else repr(exc)
            await self._finish(row, OutboxState.FAILED, error, attempts + 1)
            return True
        attempts += 1
        self.stats["retries"] += 1
        if attempts >= self.config.max_attempts:
            await self._finish(row, OutboxState.FAILED, str(exc), attempts)
            return True
        self._attempts[row.id] = attempts
        async with self.db.session() as session:
            await outbox_repo.record_attempt(
                session=session, message_id=row.id, worker=self.worker,
                attempts=attempts, error=str(exc),
            )
        self.throttle.pause(chat_id, backoff(attempts))
        return False

    async def _send(self, row: OutboxMessage, chat_id: int) -> int:
        bot = self._bot
        assert bot is not None, "dispatcher not started"
        markup = (
            InlineKeyboardMarkup.de_json(json.loads(row.reply_markup), bot)
            if row.reply_markup
            else None
        )
        if row.photo_path:
            data = await asyncio.to_thread(Path(row.photo_path).read_bytes)
            message = await bot.send_photo(
                chat_id, photo=data, caption=row.text, parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        elif row.document_path:
            path = Path(row.document_path)
            data = await asyncio.to_thread(path.read_bytes)
            message = await bot.send_document(
                chat_id, document=data, filename=path.name, caption=row.text,
                parse_mode=ParseMode.HTML, reply_markup=markup,
            )
        else:
            message = await bot.send_message(
                chat_id, row.text, parse_mode=ParseMode.HTML, reply_markup=markup,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        return message.message_id

    async def _release(self, row: OutboxMessage, not_before: datetime) -> None:
        async with self.db.session() as session:
            await outbox_repo.release(
                session=session, message_ids=[row.id], worker=self.worker, not_before=not_before
            )

    async def _finish(
        self, row: OutboxMessage, state: OutboxState, error: str, attempts: int
    ) -> None:
        async with self.db.session() as session:
            settled = await outbox_repo.mark_final(
                session=session, message_id=row.id, worker=self.worker, state=state,
                error=error, attempts=attempts,
            )
        self.stats[state.value] += 1
        if settled and state is OutboxState.FAILED:
            log.warning("outbox message %s (%s) failed: %s", row.id, row.kind, error)
            await self._tell_office(row, "reminders.delivery.failed", error=error[:200])

    async def _unreachable(self, row: OutboxMessage) -> None:
        async with self.db.session() as session:
            person = await outbox_repo.mark_unreachable(
                session=session, person_id=row.person_id, chat_id=row.chat_id,
                now=self.clock.now(),
            )
            name = person.name if person else None
            if person is not None:
                self.unreachable.add(person.id)
        if name is not None:
            await self._tell_office(row, "reminders.delivery.blocked", name=name)
        elif row.chat_id < 0:
            await self._tell_office(row, "reminders.delivery.failed", error="bot removed from chat")

    async def _tell_office(self, row: OutboxMessage, text_id: str, **params: Any) -> None:
        """The office hears of every message that will not arrive (never about its own)."""
        if row.kind.startswith(OFFICE_KIND):
            return
        async with self.db.session() as session:
            admins = await people_repo.persons_with_role(session=session, roles=(Role.ADMIN,))
            targets = {p.telegram_id: p.language for p in admins if p.telegram_id}
            for admin_id in self.admin_ids:
                targets.setdefault(admin_id, self.texts.default)
            for chat_id, language in targets.items():
                if chat_id == row.chat_id:
                    continue
                await self.outbox.enqueue(
                    session,
                    key=f"office.undelivered:{row.id}:{chat_id}",
                    chat_id=chat_id,
                    kind="office.undelivered",
                    text=self.texts.get(language, text_id, id=row.id, kind=row.kind, **params),
                )

    async def note_reachable(self, person_id: int) -> None:
        """The person wrote to the bot again: they can be reached (cheap when they could)."""
        if person_id not in self.unreachable:
            return
        self.unreachable.discard(person_id)
        async with self.db.session() as session:
            await outbox_repo.clear_unreachable(session=session, person_id=person_id)
