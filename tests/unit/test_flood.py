"""Flood control's budgets (issue 11, row 3): per sender, shared by strangers, albums once."""

from __future__ import annotations

from bot.config import FloodConfig
from bot.core.flood import ALBUM_SIZE, PRUNE_ABOVE, FloodControl, TokenBucket
from db.session import Database


class Ticks:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _control(ticks: Ticks, **limits: float) -> FloodControl:
    # The database is only read by start(), which these tests do not call.
    return FloodControl(FloodConfig.model_validate(limits), Database("sqlite://"), clock=ticks)


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    bucket = TokenBucket.full(3, 60, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert not bucket.take(0.5)
    assert bucket.take(1.0)  # one a second
    assert bucket.is_full(10.0)


def test_a_linked_person_gets_the_burst_then_the_rate_and_no_more() -> None:
    ticks = Ticks()
    flood = _control(ticks, burst=6, per_minute=30)
    flood.mark_linked(1)
    admitted = 0
    for _ in range(300):  # 300 messages at 20 a second
        admitted += flood.admit(1)
        ticks.now += 0.05
    assert admitted == 6 + 7  # the burst, then one every 2 s for 15 s
    assert flood.dropped == 300 - admitted


def test_one_senders_flood_leaves_another_untouched() -> None:
    ticks = Ticks()
    flood = _control(ticks, burst=6, per_minute=30)
    flood.mark_linked(1)
    flood.mark_linked(2)
    for _ in range(100):
        flood.admit(1)
    assert flood.admit(2)


def test_an_album_costs_one_token() -> None:
    ticks = Ticks()
    flood = _control(ticks, burst=1, per_minute=1)
    flood.mark_linked(1)
    assert all(flood.admit(1, album="g1") for _ in range(ALBUM_SIZE))
    assert not flood.admit(1, album="g1")  # no album has eleven items
    assert not flood.admit(1, album="g2")


def test_strangers_share_one_bucket_besides_their_own() -> None:
    ticks = Ticks()
    flood = _control(ticks, stranger_burst=3, stranger_per_minute=6, strangers_burst=5,
                     strangers_per_minute=60)
    assert [flood.admit(7) for _ in range(4)] == [True, True, True, False]
    assert [flood.admit(8) for _ in range(3)] == [True, True, False]  # the shared 5 used up
    assert not flood.admit(9)
    flood.mark_linked(10)
    assert flood.admit(10)  # a linked person does not draw on the strangers' bucket


def test_a_stranger_is_answered_once_per_period() -> None:
    ticks = Ticks()
    flood = _control(ticks, stranger_answer_minutes=10)
    assert flood.may_answer_stranger(7)
    assert not flood.may_answer_stranger(7)
    assert flood.may_answer_stranger(8)
    ticks.now += 601
    assert flood.may_answer_stranger(7)


def test_linking_gives_a_persons_budget() -> None:
    ticks = Ticks()
    flood = _control(ticks, stranger_burst=1, burst=5)
    assert flood.admit(7)
    assert not flood.admit(7)
    flood.mark_linked(7)
    assert all(flood.admit(7) for _ in range(5))


def test_idle_senders_are_forgotten() -> None:
    ticks = Ticks()
    flood = _control(ticks, strangers_burst=10000, strangers_per_minute=60000,
                     stranger_answer_minutes=1)
    for user in range(PRUNE_ABOVE):
        flood.admit(user)
    ticks.now += 3600
    flood.admit(PRUNE_ABOVE + 1)
    assert len(flood._senders) == 1
