"""SQLite through aiosqlite with one trip to its thread per statement.

aiosqlite runs each sqlite3 call on the connection's own thread, and SQLAlchemy's adapter
makes four such calls for every statement: open a cursor, enter it, execute, fetch the
rows and close it. Each call is a hand-off to the thread and a wake-up of the event loop
(about 0.1 ms here), so a statement that SQLite runs in microseconds costs the loop four
of them, and a quiz answer's flush of four rows spent more time handing off than writing.

The cursor here does the whole statement (execute, description, rows, row count, last
row id) in one function on that thread, the way SQLAlchemy's own adapter already queues
its isolation-level change there. Server-side cursors (streamed results) keep the stock
adapter. Errors are the driver's own, raised where they were before.

SQLite has one writer at a time. A second connection's first write waits in SQLite's busy
handler, which sleeps in steps of 1, 2, 5 … up to 100 ms whether or not the lock came
free a microsecond later: under load a person's `/progress` waited 200 ms behind another
one's 2 ms write. So the connections of one engine also queue for writing in this
process: a transaction takes the engine's write turn (an `asyncio.Lock`, first come first
served) before its first writing statement and gives it back when it commits, rolls back
or closes. Reads never wait for it (WAL lets them run beside the writer). Another process
on the same file still meets the busy timeout, and a turn not had within that timeout
fails as SQLite would, with "database is locked".
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import weakref
from collections import deque
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

# How long a transaction waits for its turn to write: SQLite's own busy timeout as
# `db.session` sets it.
WRITE_TURN_TIMEOUT = 10.0

# (description, rows, row count, last row id, transaction open afterwards, error)
_Outcome = tuple[Any, list[Any] | None, int, int | None, bool, BaseException | None]

_READ_HEADS = ("SELECT", "PRAGMA", "EXPLAIN", "SAVEPOINT", "RELEASE", "VALUES")
_WRITE_WORDS = re.compile(r"\b(?:INSERT|UPDATE|DELETE|REPLACE)\b")


def writes(operation: str) -> bool:
    """Whether a statement may write, read from its text as SQLAlchemy renders it
    (keywords in capitals). A `WITH` statement writes when it holds a DML keyword; a
    plain `BEGIN` and a savepoint do not take SQLite's write lock."""
    head = operation.lstrip()[:24].upper()
    if head.startswith(_READ_HEADS):
        return False
    if head.startswith("WITH"):
        return _WRITE_WORDS.search(operation) is not None
    if head.startswith("BEGIN"):
        return "IMMEDIATE" in head or "EXCLUSIVE" in head
    return True


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the connection's thread: the statement from start to finish."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid, connection.in_transaction, None
    except Exception as error:  # raised on the loop's side, after the write turn is settled
        return None, None, -1, None, connection.in_transaction, error
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement is one call on the connection's thread."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no cursor opened ahead of time
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    async def _call(self, operation: Any, parameters: Any, many: bool) -> None:
        connection = self._connection
        adapted = cast(OneTripConnection, self._adapt_connection)
        async with adapted._execute_mutex:
            if not adapted._writing and writes(operation):
                await adapted.take_write_turn()
            # aiosqlite's queue to its thread, as SQLAlchemy's adapter uses it.
            outcome: _Outcome = await connection._execute(
                _run, connection._conn, operation, parameters, many
            )
        self._description, rows, self._rowcount, self._lastrowid, in_transaction, error = outcome
        if adapted._writing and not in_transaction:
            adapted.give_write_turn()  # autocommit, or a write that failed before BEGIN
        if error is not None:
            raise error
        self._rows = deque(rows) if rows else deque()

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._call(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._call(operation, seq_of_parameters, True)

    async def _async_soft_close(self) -> None:
        return None  # nothing is open on the thread between statements

    def close(self) -> None:
        self._rows.clear()

    def nextset(self) -> None:
        return None  # DB-API: no further result set (SQLite has one per statement)

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """A connection that takes its engine's write turn for a writing transaction."""

    __slots__ = ("_writing",)
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: OneTripDBAPI, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._writing = False

    async def take_write_turn(self) -> None:
        dbapi: OneTripDBAPI = self.dbapi
        try:
            # asyncio.timeout, not wait_for: no task is made for a turn that is free
            async with asyncio.timeout(WRITE_TURN_TIMEOUT):
                await dbapi.write_turn().acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        self._writing = True

    def give_write_turn(self) -> None:
        if self._writing:
            self._writing = False
            self.dbapi.write_turn().release()

    def commit(self) -> None:
        super().commit()
        self.give_write_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.give_write_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.give_write_turn()

    def terminate(self) -> None:
        try:
            super().terminate()
        finally:
            self.give_write_turn()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The module SQLAlchemy's aiosqlite dialect is given in place of its default one:
    one per engine, so one write turn per database file in this process."""

    def __init__(self, aiosqlite: Any, sqlite: Any) -> None:
        super().__init__(aiosqlite, sqlite)
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def write_turn(self) -> asyncio.Lock:
        """The engine's write turn on the running loop (tests run several loops)."""
        loop = asyncio.get_running_loop()
        turn = self._turns.get(loop)
        if turn is None:
            turn = self._turns[loop] = asyncio.Lock()
        return turn

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        # SQLAlchemy's own connect (the thread as a daemon, `async_creator_fn`), rewrapped.
        return OneTripConnection(self, super().connect(*arg, **kw)._connection)


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
