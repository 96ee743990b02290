"""How many SQL statements a quiz answer costs, counted at the cursor.

An answer is the busiest quiz update (a whole staff meeting answers at once), so the
work behind it has a bound. The gate reads the person (two queries today); the answer
then reads the poll with its person, question, card and session in one query and picks
the next question in another; it writes the poll, the card, the review log and the
session in one flush, and stores the poll it sent. That was 16 statements, 11 of them
queries, before the answer was read together and the session moved on in one unit of
work.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from bot.app import build_application
from bot.config import AppConfig
from bot.core.clock import FrozenClock
from bot.services import Services
from db.models import Role
from tests.conftest import BotHarness
from tests.utils import factories as f
from tests.utils.quiz import PollRequest, correct_ids, load_small_bank, poll_answer, wrong_ids
from tests.utils.telegram import UpdateFactory

ZHANG = 6670001
MAX_QUERIES = 4  # the gate's included
MAX_STATEMENTS = 9  # queries and writes


@pytest.fixture
async def quiz_harness(config: AppConfig, services: Services) -> AsyncIterator[BotHarness]:
    request = PollRequest()
    app = build_application(config, services=services, request=request, updater=False)
    async with app:
        request.clear()
        yield BotHarness(app, request, UpdateFactory(app.bot), services)


@contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    """Every statement sent to the database inside the block (BEGIN/COMMIT aside)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split())[:120])

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _started(h: BotHarness) -> Any:
    async with h.services.session() as s:
        await load_small_bank(s)
        edu = await f.unit(s, "县教育局")
        await f.person(s, "张三", unit=edu, telegram_id=ZHANG, role=Role.STAFF)
    user = h.updates.user(ZHANG)
    await h.process(h.updates.text(user, "/quiz"))
    return user


def _assert_bounds(seen: list[str]) -> None:
    queries = [s for s in seen if s.startswith("SELECT")]
    assert len(queries) <= MAX_QUERIES, "\n".join(seen)
    assert len(seen) <= MAX_STATEMENTS, "\n".join(seen)


def _request(h: BotHarness) -> PollRequest:
    assert isinstance(h.request, PollRequest)
    return h.request


async def test_a_poll_answer_reads_and_writes_in_few_statements(
    quiz_harness: BotHarness,
) -> None:
    h = quiz_harness
    user = await _started(h)
    clock = h.services.clock
    assert isinstance(clock, FrozenClock)
    for n, choose in enumerate((correct_ids, wrong_ids, correct_ids)):
        clock.advance(timedelta(seconds=5))
        call = _request(h).polls()[-1]
        with statements(h.services) as seen:
            await h.process(poll_answer(user, _request(h).poll_id(), choose(call)))
        assert len(_request(h).polls()) == n + 2, "the next question was sent"
        _assert_bounds(seen)


async def test_a_skip_reads_and_writes_in_few_statements(quiz_harness: BotHarness) -> None:
    h = quiz_harness
    user = await _started(h)
    skip = _request(h).polls()[-1].buttons()[0][1]
    with statements(h.services) as seen:
        await h.process(h.updates.callback(user, skip))
    assert len(_request(h).polls()) == 2, "the next question was sent"
    _assert_bounds(seen)
