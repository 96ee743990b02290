"""The dispatcher's throttle: requests count from their answer, so jitter cannot cause a 429."""

from __future__ import annotations

import heapq
import math
import random

import pytest

from bot.delivery.limits import SLACK, Throttle
from sandbox.errors import ApiError
from sandbox.limits import RateLimitConfig, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_full_window_has_room_one_second_after_the_oldest_answer() -> None:
    clock = Clock()
    throttle = Throttle(per_second=3, clock=clock)
    for chat in (1, 2, 3):
        assert throttle.wait(chat) == 0
        throttle.begin(chat)
    # All three on the wire: only an answer can make room, however long we wait.
    assert math.isinf(throttle.global_wait(clock.now))
    for chat, at in ((1, 0.2), (2, 0.3), (3, 0.4)):
        clock.now = at
        throttle.answered(chat)
    assert throttle.wait(4) == pytest.approx(0.2 + 1 + SLACK - 0.4)
    clock.now = 1.2 + SLACK
    assert throttle.wait(4) == 0
    throttle.begin(4)
    assert throttle.global_wait(clock.now) == pytest.approx(0.1)


def test_a_private_chat_waits_a_second_from_its_answer_and_a_429_pauses_it() -> None:
    clock = Clock()
    throttle = Throttle(clock=clock)
    throttle.begin(7)
    clock.now = 0.25
    throttle.answered(7)
    assert throttle.chat_wait(7, 0.5) == pytest.approx(0.75 + SLACK)
    assert throttle.chat_wait(8, 0.5) == 0
    throttle.pause(8, 3)
    assert throttle.wait(8) == pytest.approx(3)


def test_a_cancelled_request_gives_its_slot_back_uncounted() -> None:
    clock = Clock()
    throttle = Throttle(per_second=1, clock=clock)
    throttle.begin(1)
    assert math.isinf(throttle.wait(2))
    throttle.cancel(1)
    assert throttle.wait(2) == 0 and throttle.wait(1) == 0


def test_a_group_gets_twenty_a_minute_counted_from_the_answers() -> None:
    clock = Clock()
    throttle = Throttle(clock=clock)
    for n in range(20):
        clock.now = n * 1.0
        assert throttle.chat_wait(-100, clock.now) == 0
        throttle.begin(-100)
        clock.now += 0.5
        throttle.answered(-100)
    assert throttle.chat_wait(-100, clock.now) == pytest.approx(60 + SLACK - (clock.now - 0.5))
    throttle.forget(-100)
    assert throttle.chat_wait(-100, clock.now) > 0  # still counted: not forgotten early


def _simulate(throttle: Throttle, clock: Clock, messages: int, chats: int,
              latency: float, seed: int) -> tuple[int, float]:
    """Send through `throttle` to a server enforcing Telegram's limits (the sandbox's own
    limiter), each request arriving after a random delay and answered after another.
    Returns the 429s and the time the last answer came back."""
    rng = random.Random(seed)
    server = RateLimiter(RateLimitConfig(), clock=clock)
    left = {chat: messages // chats for chat in range(1, chats + 1)}
    on_wire: set[int] = set()
    events: list[tuple[float, int, str, int]] = []  # (time, seq, kind, chat)
    seq = refused = 0
    while any(left.values()):
        while True:
            ready = [c for c, n in left.items() if n and c not in on_wire]
            waits = [(throttle.wait(c), c) for c in ready]
            go = [c for w, c in waits if w == 0]
            if not go:
                break
            # Like the dispatcher: the oldest message first (queued round-robin here).
            chat = max(go, key=lambda c: left[c])
            throttle.begin(chat)
            on_wire.add(chat)
            up, down = rng.uniform(0, latency), rng.uniform(0, latency)
            heapq.heappush(events, (clock.now + up, seq, "arrive", chat))
            heapq.heappush(events, (clock.now + up + down, seq + 1, "answer", chat))
            seq += 2
        soonest = min((w for w, _ in waits if w < math.inf), default=math.inf)
        if events and events[0][0] <= clock.now + soonest:
            at, _, kind, chat = heapq.heappop(events)
            clock.now = at
            if kind == "arrive":
                try:
                    server.acquire(chat, is_private=True)
                    left[chat] -= 1
                except ApiError:
                    refused += 1
            else:
                throttle.answered(chat)
                on_wire.discard(chat)
        else:
            clock.now += soonest
    return refused, clock.now


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_delays_on_the_way_never_meet_a_429_and_the_limit_is_nearly_used(
    seed: int,
) -> None:
    clock = Clock()
    refused, took = _simulate(Throttle(clock=clock), clock, messages=900, chats=100,
                              latency=0.04, seed=seed)
    assert refused == 0
    # Each slot turns over once per (1 s + a round trip of at most 80 ms).
    assert 900 / took > 30 / 1.09


def test_counting_from_the_send_instead_would_meet_429s() -> None:
    """The same traffic through a throttle that counts a request when it leaves."""

    class CountedAtSend(Throttle):
        def begin(self, chat_id: int) -> None:
            super().begin(chat_id)
            super().answered(chat_id)

        def answered(self, chat_id: int) -> None:
            return None

    clock = Clock()
    refused, _ = _simulate(CountedAtSend(clock=clock), clock, messages=900, chats=100,
                           latency=0.04, seed=1)
    assert refused > 0
