"""The bot's inbox: update ids, getUpdates long polling and webhook delivery."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import aiohttp

from .errors import OTHER_GET_UPDATES, WEBHOOK_ACTIVE, conflict
from .events import Stats

JSON = dict[str, Any]

# Telegram leaves these out unless a bot asks for them in allowed_updates
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class WebhookSettings:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    # The public key certificate uploaded with setWebhook: Telegram then trusts it (a
    # self-signed certificate) besides the usual certificate authorities.
    certificate: bytes | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


class UpdateQueue:
    """Pending updates, handed out by getUpdates or pushed to a webhook.

    Webhook delivery uses up to `max_connections` requests at once, as Telegram does
    (setWebhook: "the maximum allowed number of simultaneous HTTPS connections to the
    webhook for update delivery"), so a bot behind a load balancer gets its updates in
    parallel. Within one chat they stay in order: the next update of a chat is sent only
    once the bot answered 200 to the one before. A failed delivery is retried after a
    growing delay, during which nothing else is sent.
    """

    def __init__(self, stats: Stats, retry_delays: tuple[float, ...]) -> None:
        self.stats = stats
        self.retry_delays = retry_delays or (1.0,)
        self.pending: deque[JSON] = deque()
        self.next_update_id = 1
        self.allowed: frozenset[str] | None = None
        self.webhook: WebhookSettings | None = None
        self._arrived = asyncio.Event()
        self._poll_generation = 0
        self._pusher: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def accepts(self, kind: str) -> bool:
        if self.allowed is None:
            return kind not in OPT_IN_UPDATES
        return kind in self.allowed

    def push(self, kind: str, payload: JSON) -> JSON | None:
        if not self.accepts(kind):
            return None
        update = {"update_id": self.next_update_id, kind: payload}
        self.next_update_id += 1
        self.pending.append(update)
        self.stats.updates_created += 1
        self._wake()
        return update

    def _wake(self) -> None:
        self._arrived.set()
        self._arrived = asyncio.Event()

    def set_allowed(self, allowed: list[str] | None) -> None:
        if allowed is not None:
            self.allowed = frozenset(allowed) if allowed else None

    def drop_pending(self) -> None:
        self.pending.clear()

    def _confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:
            keep = list(self.pending)[offset:]
            self.stats.updates_via_polling += len(self.pending) - len(keep)
            self.pending = deque(keep)
            return
        while self.pending and self.pending[0]["update_id"] < offset:
            self.pending.popleft()
            self.stats.updates_via_polling += 1

    async def get_updates(
        self, *, offset: int | None, limit: int, wait: float, allowed: list[str] | None
    ) -> list[JSON]:
        if self.webhook is not None:
            raise conflict(WEBHOOK_ACTIVE)
        self.set_allowed(allowed)
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        # a newer getUpdates wakes this one so it can answer 409 at once
        self._wake()
        deadline = time.monotonic() + wait
        while not self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            arrived = self._arrived
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), remaining)
            if generation != self._poll_generation:
                raise conflict(OTHER_GET_UPDATES)
        return list(self.pending)[: max(1, min(limit, 100))]

    def set_webhook(self, settings: WebhookSettings) -> None:
        self.webhook = settings
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.get_running_loop().create_task(self._push_loop())
        self._wake()

    async def delete_webhook(self) -> None:
        self.webhook = None
        await self._stop_pusher()

    async def close(self) -> None:
        await self._stop_pusher()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _stop_pusher(self) -> None:
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
            self._pusher = None

    async def _push_loop(self) -> None:
        failures = 0
        in_flight: dict[int, asyncio.Task[str | None]] = {}
        sent: dict[int, tuple[JSON, object]] = {}  # update and its chat, by update_id
        busy: set[object] = set()
        try:
            while self.webhook is not None:
                settings = self.webhook
                room = max(1, settings.max_connections) - len(in_flight)
                seen: set[object] = set()
                for update in list(self.pending):
                    if room <= 0:
                        break
                    chat = _chat_of(update)
                    blocked = chat is not None and (chat in busy or chat in seen)
                    if chat is not None:
                        seen.add(chat)
                    if blocked or update["update_id"] in in_flight:
                        continue
                    if chat is not None:
                        busy.add(chat)
                    in_flight[update["update_id"]] = asyncio.create_task(
                        self._post(settings, update))
                    sent[update["update_id"]] = (update, chat)
                    room -= 1
                if not in_flight:
                    await self._arrived.wait()
                    continue
                arrived = asyncio.ensure_future(self._arrived.wait())
                done, _ = await asyncio.wait([*in_flight.values(), arrived],
                                             return_when=asyncio.FIRST_COMPLETED)
                arrived.cancel()
                delay = 0.0
                for update_id, task in list(in_flight.items()):
                    if task not in done:
                        continue
                    del in_flight[update_id]
                    update, chat = sent.pop(update_id)
                    busy.discard(chat)
                    error = task.result()
                    if error is None:
                        # gone already if drop_pending_updates cleared the queue meanwhile
                        with contextlib.suppress(ValueError):
                            self.pending.remove(update)
                        self.stats.updates_via_webhook += 1
                        failures = 0
                        continue
                    self.stats.webhook_failures += 1
                    settings.last_error_date = int(time.time())
                    settings.last_error_message = error
                    delay = self.retry_delays[min(failures, len(self.retry_delays) - 1)]
                    failures += 1
                if delay:
                    await asyncio.sleep(delay)
        finally:
            for task in in_flight.values():
                task.cancel()

    async def _post(self, settings: WebhookSettings, update: JSON) -> str | None:
        """Deliver one update; the error text mimics getWebhookInfo.last_error_message."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {SECRET_HEADER: settings.secret_token} if settings.secret_token else {}
        try:
            async with self._session.post(
                settings.url,
                json=update,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=10),
                ssl=_tls_for(settings),
            ) as response:
                await response.read()
                if response.status == 200:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientConnectorCertificateError:
            return "SSL error {error:14090086:SSL routines:ssl3_get_server_certificate:certificate verify failed}"
        except aiohttp.ClientConnectorError:
            return "Connection refused"
        except aiohttp.ClientError as exc:
            return f"Connection failed: {exc.__class__.__name__}"


def _tls_for(settings: WebhookSettings) -> ssl.SSLContext | bool:
    """Verify the bot's certificate as Telegram does: a known authority, or the one uploaded."""
    if settings.certificate is None:
        return True
    context = ssl.create_default_context()
    context.load_verify_locations(cadata=settings.certificate.decode("ascii"))
    return context


def _chat_of(update: JSON) -> object:
    """The chat an update belongs to (its order is kept), or None for one without a chat."""
    for kind, payload in update.items():
        if kind == "update_id" or not isinstance(payload, dict):
            continue
        for holder in (payload, payload.get("message")):
            if isinstance(holder, dict) and isinstance(holder.get("chat"), dict):
                return holder["chat"].get("id")
        for field in ("from", "user"):
            if isinstance(payload.get(field), dict):
                return payload[field].get("id")
    return None
