"""Benchmark: what quiz readiness adds to the leaders' summary (SQLite).

    .venv/bin/python -m bench.reports_readiness [--tasks 200000] [--people 2000]
                                                [--cards 20] [--repeat 7]

Builds the campaign of bench.reports (2,000 units, 20,000 people) with `--tasks` tasks and
times `build_summary` without readiness and with it, first on empty quiz tables, then after
linking `--people` people with `--cards` FSRS cards and as many answers this week each.
Each figure is also a ratio to `SELECT count(*)` over the tasks, measured in the same
process right before it.

Then the background refresh (`ReadinessCache.refresh`, every five minutes in the bot)
against the event loop: a ticker that sleeps 1 ms at a time records the longest gap
between its turns while the refresh runs, against the same ticker on an idle loop for as
long. The heap is settled first, as the bot's post-init does.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, update

from bench.reports import INDICATORS, NOW, PEOPLE, UNITS, ZONE, _grow, _median_ms, _seed_roster
from bot.quiz.readiness import ReadinessCache, readiness_by_unit
from bot.reports.summary import build_summary
from db.models import (
    Campaign,
    Person,
    Question,
    QuestionKind,
    QuizCard,
    QuizReview,
    SessionKind,
    Task,
)
from db.repositories.reports import EVERYTHING, TaskScope
from db.session import Database

QUESTIONS = 120
THRESHOLD = 0.8
REVIEW_STATE, LEARNING_STATE = 2, 1


def _seed_quiz(url: str, people: int, cards: int, rng: random.Random) -> None:
    """Link `people` people spread over the units, each with `cards` cards and answers."""
    engine = create_engine(url)
    person_ids = rng.sample(range(1, PEOPLE + 1), people)
    card_rows: list[dict[str, Any]] = []
    review_rows: list[dict[str, Any]] = []
    for person_id in person_ids:
        for question_id in rng.sample(range(1, QUESTIONS + 1), cards):
            last = NOW - timedelta(days=rng.uniform(0, 30))
            learning = rng.random() < 0.25
            card_rows.append({
                "person_id": person_id, "question_id": question_id,
                "state": LEARNING_STATE if learning else REVIEW_STATE, "step": 0,
                "stability": rng.uniform(0.5, 60), "difficulty": rng.uniform(1, 9),
                "due": last + timedelta(days=3), "last_review": last, "reps": 1, "lapses": 0,
            })
            correct = rng.random() < 0.7
            review_rows.append({
                "person_id": person_id, "question_id": question_id,
                "at": NOW - timedelta(hours=rng.uniform(0, 60)), "rating": 3 if correct else 1,
                "correct": correct, "score": 1.0 if correct else 0.0, "kind": SessionKind.QUIZ,
            })
    with engine.begin() as conn:
        conn.execute(insert(Question), [{
            "id": i, "key": f"q{i:03d}", "kind": QuestionKind.SINGLE,
            "indicator_id": 1 + i % INDICATORS, "text": f"题目 {i}", "options": ["对", "错"],
            "correct": [0],
        } for i in range(1, QUESTIONS + 1)])
        conn.execute(update(Person).where(Person.id.in_(person_ids))
                     .values(telegram_id=Person.id + 700_000_000))
        conn.execute(insert(QuizCard), card_rows)
        conn.execute(insert(QuizReview), review_rows)
    engine.dispose()


Action = Callable[[], Coroutine[Any, Any, object]]


async def _measure(db: Database, repeat: int, title: str) -> None:
    # Township #3 and the schools under it, as `Actor.led_unit_ids` would hold them.
    township = frozenset({3} | {i for i in range(101, UNITS + 1) if 2 + (i % 99) == 3})
    scopes = {"leader": EVERYTHING, "township leader": TaskScope(unit_ids=township, owner_id=7)}
    print(f"\n== {title}")
    async with db.session() as session:
        campaign = await session.get(Campaign, 1)
        assert campaign is not None

        async def baseline() -> object:
            stmt = select(func.count()).select_from(Task).where(Task.campaign_id == 1)
            return (await session.execute(stmt)).scalar_one()

        async def readiness_only() -> object:
            return await readiness_by_unit(session, now=NOW, zone=ZONE, threshold=THRESHOLD)

        base = await _median_ms(repeat, baseline)
        took = await _median_ms(repeat, readiness_only)
        print(f"  readiness_by_unit alone          {took:8.1f} ms  {took / base:6.1f}x count(*)")
        # "cold" recomputes readiness on every call (what the background refresh pays);
        # "cached" is what /summary pays while the snapshot is fresh.
        warm = ReadinessCache(zone=ZONE, threshold=THRESHOLD)
        await warm.refresh(session, NOW)
        variants: dict[str, Callable[[], ReadinessCache | None]] = {
            "without": lambda: None,
            "cold": lambda: ReadinessCache(zone=ZONE, threshold=THRESHOLD, max_age=timedelta(0)),
            "cached": lambda: warm,
        }
        for label, scope in scopes.items():
            for shown, make in variants.items():
                def summary(
                    scope: TaskScope = scope, make: Callable[[], ReadinessCache | None] = make
                ) -> Any:
                    return build_summary(session, campaign, scope, NOW, ZONE, readiness=make())

                base = await _median_ms(repeat, baseline)
                took = await _median_ms(repeat, summary)
                print(f"  /summary {label:<16} {shown:<15} {took:8.1f} ms  "
                      f"{took / base:6.1f}x count(*)")


async def _run(args: argparse.Namespace, workdir: Path) -> None:
    url = f"sqlite:///{workdir / 'bench.db'}"
    rng = random.Random(20261122)
    started = time.perf_counter()
    _seed_roster(url)
    _grow(url, 1, args.tasks, rng)
    print(f"units={UNITS} people={PEOPLE} tasks={args.tasks:,} "
          f"(seeded in {time.perf_counter() - started:.1f} s)")
    db = Database(url)
    try:
        await _measure(db, args.repeat, "empty quiz tables")
        _seed_quiz(url, args.people, args.cards, rng)
        await _measure(db, args.repeat, f"{args.people:,} linked people x {args.cards} cards "
                                        f"and answers this week")
        await _measure_stall(db, args.repeat)
    finally:
        await db.dispose()


async def _longest_gap(action: Callable[[], Coroutine[Any, Any, object]]) -> tuple[float, float]:
    """(seconds `action` took, the longest gap between a 1 ms ticker's turns meanwhile)."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.01)
    started = time.perf_counter()
    await action()
    took = time.perf_counter() - started
    done.set()
    await ticker
    return took, max(gaps)


async def _measure_stall(db: Database, repeat: int) -> None:
    from bot.core import heap

    heap.settle()
    print("\n== the readiness refresh against the event loop (longest gap of a 1 ms ticker)")
    async with db.session() as session:
        for _ in range(max(1, repeat // 2)):
            async def refresh() -> object:
                return await ReadinessCache(zone=ZONE, threshold=THRESHOLD).refresh(session, NOW)

            took, gap = await _longest_gap(refresh)
            _, idle = await _longest_gap(partial(asyncio.sleep, took))
            print(f"  refresh {took * 1000:6.0f} ms   longest gap {gap * 1000:5.1f} ms   "
                  f"idle loop {idle * 1000:4.1f} ms   {gap / idle:5.1f}x idle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--cards", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-readiness-") as tmp:
        asyncio.run(_run(args, Path(tmp)))


if __name__ == "__main__":
    main()
