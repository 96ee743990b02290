"""The dispatcher: the one sender of everything the bot sends unprompted.

Features queue messages in the outbox (`bot.delivery.outbox`, in their own transaction);
the dispatcher claims due rows, hands them to the pacer (`bot.delivery.pacer`), which
chooses when each chat's next one goes, sends it and settles it in its own short
transaction: sent, retried, or recorded as failed and shown to the office
(`bot.delivery.undelivered`). See docs/reminders.md, "Delivery API".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import socket
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.config import DeliveryConfig
from bot.core import metrics
from bot.core.clock import Clock
from bot.delivery import merge
from bot.delivery.limits import Throttle
from bot.delivery.outbox import Merger, Outbox
from bot.delivery.pacer import Pacer
from bot.delivery.undelivered import OfficeNotices
from bot.texts import Texts
from db.models import OutboxMessage, OutboxState
from db.repositories import delivery as outbox_repo
from db.session import Database

log = logging.getLogger(__name__)

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
        self.office = OfficeNotices(db=db, outbox=outbox, texts=texts, admin_ids=admin_ids)
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
        self.pacer = Pacer(throttle=self.throttle, timings=self.timings, turn=self._turn,
                           max_sending=config.max_sending)
        self._attempts: dict[int, int] = {}
        self._redirect: dict[int, int] = {}
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
        self.pacer.kick.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def wait_idle(self, timeout: float = 30.0) -> bool:  # noqa: ASYNC109
        """True once nothing is due or in hand (tests and benchmarks)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if not self.pacer.queues:
                async with self.db.session() as session:
                    if await outbox_repo.count_due(session=session, now=self.clock.now()) == 0:
                        return True
            await asyncio.sleep(0.05)
        return False

    async def _run(self) -> None:
        pump = asyncio.create_task(
            self.pacer.pump(lambda: self._stopping), name=f"delivery pump {self.worker}"
        )
        try:
            await self._claim_loop()
        finally:
            self._stopping = True
            self.pacer.kick.set()
            await asyncio.gather(pump, return_exceptions=True)
            await self._wind_down()

    async def _claim_loop(self) -> None:
        lease = timedelta(seconds=self.config.lease_seconds)
        renew_every = self.config.lease_seconds / 3
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        while not self._stopping:
            self._wake.clear()
            room = self.config.max_inflight - self.pacer.buffered()
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
        busy = self.pacer.busy_chats()
        started = time.perf_counter()
        async with self.db.session() as session:
            rows = await outbox_repo.claim(
                session=session, worker=self.worker, now=self.clock.now(), lease=lease,
                limit=limit, skip_chats=busy,
            )
        self.timings["claim"] += time.perf_counter() - started
        self.stats["claims"] += 1
        self.pacer.add(rows)
        return len(rows)

    async def _renew(self, lease: timedelta) -> None:
        ids = self.pacer.held_ids()
        async with self.db.session() as session:
            await outbox_repo.renew(
                session=session, message_ids=ids, worker=self.worker,
                until=self.clock.now() + lease,
            )

    async def _wind_down(self) -> None:
        # Turns already started finish and settle (their request may be on the wire), so
        # a stop neither loses nor repeats a message; the rest goes back at once.
        await asyncio.gather(*self.pacer.turns.values(), return_exceptions=True)
        left = self.pacer.held_ids()
        self.pacer.clear()
        self._attempts.clear()
        self._redirect.clear()
        if left:
            async with self.db.session() as session:
                await outbox_repo.release(session=session, message_ids=left, worker=self.worker)

    # One turn ---------------------------------------------------------------------------

    async def _turn(self, chat_id: int) -> None:
        """One attempt at the chat's first message; it leaves the queue once settled."""
        queue = self.pacer.queues[chat_id]
        row = queue[0]
        try:
            merger = self.outbox.merger_for(row.kind) if merge.mergeable(row) else None
            if merger is None:
                settled = await self._attempt(row, chat_id)
            else:
                settled = await self._attempt_list(row, chat_id, merger)
        except Exception:
            # A database hiccup while settling: leave the row claimed; its lease runs
            # out and it is tried again.
            log.exception("delivering outbox message %s failed", row.id)
            settled = True
        finally:
            self.pacer.turns.pop(chat_id, None)
        if settled:
            queue.popleft()
            self._attempts.pop(row.id, None)
        if not queue:
            self.pacer.queues.pop(chat_id, None)
            self._redirect.pop(chat_id, None)
            self.throttle.forget(chat_id)
        if self.pacer.buffered() <= self._low_water:
            # Claim in batches, not one transaction per message sent.
            self._wake.set()
        self.pacer.kick.set()

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
        telegram_id, error, answered = await self._request(row, chat_id)
        if error is not None:
            return await self._refused(row, chat_id, error)
        await self._sent([row], telegram_id, answered)
        return True

    async def _request(
        self, row: OutboxMessage, chat_id: int, *, text: str | None = None,
        markup: str | None = None,
    ) -> tuple[int | None, Exception | None, float]:
        """The request, in the slot the pump took: the message's id or what refused it,
        and when the answer came (the slot is free from then)."""
        telegram_id: int | None = None
        error: Exception | None = None
        started = time.perf_counter()
        try:
            telegram_id = await self._send(row, self._redirect.get(chat_id, chat_id),
                                           text=text, markup=markup)
        except (TelegramError, OSError) as exc:  # OSError: an attachment gone from disk
            error = exc
        finally:
            self.throttle.answered(chat_id)
            self.pacer.kick.set()
            answered = time.perf_counter()
            self.timings["http"] += answered - started
        return telegram_id, error, answered

    async def _sent(
        self, rows: Sequence[OutboxMessage], telegram_id: int | None, answered: float
    ) -> None:
        """Settle rows as sent by one message (one row, or a list's)."""
        async with self.db.session() as session:
            await outbox_repo.mark_sent_many(
                session=session, message_ids=[r.id for r in rows], worker=self.worker,
                now=self.clock.now(), telegram_id=telegram_id,
            )
        self.timings["settle"] += time.perf_counter() - answered
        self.stats["sent"] += len(rows)
        for row in rows:
            metrics.outbox_settled(row.kind, "sent")

    async def _attempt_list(self, head: OutboxMessage, chat_id: int, merger: Merger) -> bool:
        """`_attempt` for a kind sent as lists: the chat's backlog of that kind goes as one
        message. True when `head` is settled; the others are settled or given back."""
        queue = self.pacer.queues[chat_id]
        held = [r for r in list(queue)[1:] if r.kind == head.kind and merge.mergeable(r)]
        for row in held:
            queue.remove(row)
        room = merge.LIST_ROWS - 1 - len(held)
        more: list[OutboxMessage] = []
        if room > 0:
            async with self.db.session() as session:
                more = [r for r in await outbox_repo.claim(
                    session=session, worker=self.worker, now=self.clock.now(),
                    lease=timedelta(seconds=self.config.lease_seconds), limit=room,
                    chat_id=head.chat_id, kind=head.kind,
                ) if merge.mergeable(r)]
        wanted: list[OutboxMessage] = []
        try:
            for row in [head, *held, *more]:
                if await self._still_wanted(row):
                    wanted.append(row)
                else:
                    await self._finish(row, OutboxState.CANCELLED, "no longer applies",
                                       row.attempts)
            text, markup = (wanted[0].text, wanted[0].reply_markup) if wanted else ("", None)
            if len(wanted) > 1:
                async with self.db.session() as session:
                    header, items = await merger.items(session, wanted, self.clock.now())
                count = merge.fitting(header, [item.line for item in items])
                await self._give_back(wanted[count:])
                wanted, items = wanted[:count], items[:count]
                if count > 1:
                    text, markup = merge.compose(header, items)
        except BaseException:
            self.throttle.cancel(chat_id)
            raise
        if not wanted:
            self.throttle.cancel(chat_id)
            return True
        telegram_id, error, answered = await self._request(wanted[0], chat_id, text=text,
                                                           markup=markup)
        if error is not None:
            await self._give_back([r for r in wanted if r is not head])
            return await self._refused(head, chat_id, error) if head in wanted else True
        await self._sent(wanted, telegram_id, answered)
        if len(wanted) > 1:
            self.stats["lists"] += 1
        return True

    async def _give_back(self, rows: Sequence[OutboxMessage]) -> None:
        """Rows gathered for a list that is not sending them: claimable again at once."""
        if rows:
            async with self.db.session() as session:
                await outbox_repo.release(session=session, message_ids=[r.id for r in rows],
                                          worker=self.worker)
            self._wake.set()

    async def _refused(self, row: OutboxMessage, chat_id: int, exc: Exception) -> bool:
        """Settle or schedule a retry after an error; True when the row is settled."""
        attempts = self._attempts.get(row.id, row.attempts)
        if isinstance(exc, RetryAfter):
            # A retry costs no attempt; the chat waits exactly as long as Telegram asked.
            wait = _seconds(exc.retry_after)
            self.stats["flood_waits"] += 1
            metrics.flood_wait("outbox")
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

    async def _send(
        self, row: OutboxMessage, chat_id: int, *, text: str | None = None,
        markup: str | None = None,
    ) -> int:
        """Send `row` (or, for a list, `text` and `markup` instead of its own)."""
        bot = self._bot
        assert bot is not None, "dispatcher not started"
        keyboard = row.reply_markup if text is None else markup
        reply_markup = (
            InlineKeyboardMarkup.de_json(json.loads(keyboard), bot) if keyboard else None
        )
        if row.photo_path:
            data = await asyncio.to_thread(Path(row.photo_path).read_bytes)
            message = await bot.send_photo(
                chat_id, photo=data, caption=row.text, parse_mode=ParseMode.HTML,
                reply_markup=reply_markup,
            )
        elif row.document_path:
            path = Path(row.document_path)
            data = await asyncio.to_thread(path.read_bytes)
            message = await bot.send_document(
                chat_id, document=data, filename=path.name, caption=row.text,
                parse_mode=ParseMode.HTML, reply_markup=reply_markup,
            )
        else:
            message = await bot.send_message(
                chat_id, text or row.text, parse_mode=ParseMode.HTML, reply_markup=reply_markup,
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
        metrics.outbox_settled(row.kind, state.value)
        if settled and state is OutboxState.FAILED:
            log.warning("outbox message %s (%s) failed: %s", row.id, row.kind, error)
            await self.office.failed(row, error)

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
            await self.office.blocked(row, name)
        elif row.chat_id < 0:
            await self.office.failed(row, "bot removed from chat")

    async def note_reachable(self, person_id: int) -> None:
        """The person wrote to the bot again: they can be reached (cheap when they could)."""
        if person_id not in self.unreachable:
            return
        self.unreachable.discard(person_id)
        async with self.db.session() as session:
            await outbox_repo.clear_unreachable(session=session, person_id=person_id)
