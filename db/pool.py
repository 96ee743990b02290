"""A connection pool that hands connections out first come, first served.

SQLAlchemy's asyncio pool keeps idle connections in an `asyncio.Queue`. When a connection
comes back, the queue wakes the longest waiter, but until that waiter runs any other task
may take the connection (a handler finishing one update and starting the next does so at
once); the waiter finds the queue empty again and goes to the back of the line. With more
updates in flight than connections, one request could wait out the whole pool timeout and
fail while others were served many times: in the 09:00 round under load the round's own
read waited 30 s and raised `QueuePool limit … reached`.

Here a returned connection goes straight to the longest waiter, so a waiter is served in
its turn and a newcomer queues behind it. Everything else is SQLAlchemy's pool.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util.concurrency import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty

_T = TypeVar("_T")


class FairQueue(AsyncAdaptedQueue[_T]):
    """An `AsyncAdaptedQueue` whose waiters are served in the order they came."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[asyncio.Future[_T]] = deque()

    def put_nowait(self, item: _T) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        super().put_nowait(item)

    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)  # the pool never holds more connections than its size

    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        if not self._waiters:
            try:
                return self._queue.get_nowait()
            except asyncio.QueueEmpty:
                pass
        if not block:
            raise Empty()
        return await_(self._wait(timeout))

    async def _wait(self, seconds: float | None) -> _T:
        waiter: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            # shielded: a timeout or a cancellation ends the wait, not the waiter, which
            # may have been served in that same instant
            return await asyncio.wait_for(asyncio.shield(waiter), seconds)
        except TimeoutError:
            if waiter.done():
                return waiter.result()
            self._leave(waiter)
            raise Empty() from None
        except BaseException:
            if waiter.done():
                self.put_nowait(waiter.result())  # to the next in line, not nowhere
            else:
                self._leave(waiter)
            raise

    def _leave(self, waiter: asyncio.Future[_T]) -> None:
        waiter.cancel()
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass


class FairAsyncPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool with `FairQueue` for its idle connections."""

    _queue_class = FairQueue[ConnectionPoolEntry]
