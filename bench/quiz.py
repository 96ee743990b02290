"""Benchmark: poll answers through the application, and picking the next due card.

    .venv/bin/python -m bench.quiz [answers|limited|pick|all] [--people 10000]
                                   [--reviews 100000] [--concurrency 32] [--rounds 10]

answers  A SQLite file holds the starter bank and `--people` linked people, each in a
         /quiz session with one poll waiting for its answer. Each person's answer is a
         real `poll_answer` Update fed to `application.process_update` (the gate, the
         answer, the FSRS review, the next question chosen, sendPoll to a recording
         request, the new poll stored), `--concurrency` at a time, with sends unthrottled
         so the figure is the bot's own capacity. Baseline, same process and database,
         interleaved with the answers in `--rounds` rounds: the same people each sending
         /help (gate + one reply), always through an application without a send limiter.
limited  The answers through the application's own send pacing (every answer sends a
         poll, so Telegram's 30 messages/s overall is the ceiling), against the same
         unlimited /help baseline: a baseline behind the same limiter would be held to
         the same ceiling and hide it.
pick     `--reviews` review records and as many cards (10 per person) are stored; the
         time to choose one person's next question (due first, then new) is the median
         over 300 people. Baseline, same session: fetching a person by primary key. The
         same is measured with a tenth of the records; growth is the ratio between the
         two, and SQLite's query plan shows the index the due-card query uses.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text
from telegram import Chat, Message, MessageEntity, PollAnswer, Update, User
from telegram.request import BaseRequest, RequestData

from bench.limits import SendAtOnce
from bot.app import build_application
from bot.config import AppConfig
from bot.core import heap
from bot.core.clock import FrozenClock
from bot.quiz import bank as quiz_bank
from bot.quiz.srs import POLL_KINDS, pick_next
from bot.services import build_services
from db.migrate import upgrade
from db.models import (
    Person,
    Question,
    QuizCard,
    QuizPoll,
    QuizReview,
    QuizSession,
    SessionKind,
    Unit,
)

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
BOT_ID = 7_000_000_009
FIRST_USER = 9_000_000


@dataclass
class _Recorder(BaseRequest):
    """Answers like Telegram (sendPoll returns its poll) and counts; no network."""

    calls: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(10))

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        self.calls += 1
        api = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        if api == "getMe":
            result: Any = {"id": BOT_ID, "is_bot": True, "first_name": "bench", "username": "b"}
        elif api in ("sendMessage", "sendPoll"):
            n = next(self._ids)
            chat = int(params["chat_id"])
            result = {"message_id": n, "date": 0, "chat": {"id": chat, "type": "private"},
                      "from": {"id": BOT_ID, "is_bot": True, "first_name": "bench"}}
            if api == "sendPoll":
                result["poll"] = {
                    "id": f"bench-{n}", "question": params["question"],
                    "options": [{"text": o["text"], "voter_count": 0, "persistent_id": str(i)}
                                for i, o in enumerate(params["options"])],
                    "total_voter_count": 0, "is_closed": False, "is_anonymous": False,
                    "type": "quiz", "allows_multiple_answers": False,
                    "allows_revoting": False, "members_only": False,
                }
            else:
                result["text"] = params.get("text", "")
        else:
            result = True
        return 200, json.dumps({"ok": True, "result": result}).encode()


def _config(db_path: Path) -> AppConfig:
    return AppConfig.model_validate({
        "database": {"url": f"sqlite:///{db_path}"},
        "storage": {"data_dir": str(db_path.parent / "data")},
        "quiz": {"load_starter_bank": False},
    })


async def _load_bank(db_path: Path) -> None:
    services = build_services(_config(db_path))
    async with services.session() as session:
        await quiz_bank.load_starter_if_empty(session)
    await services.db.dispose()


def _people(db_path: Path, people: int) -> list[int]:
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.begin() as conn:
        conn.execute(insert(Unit), [{"id": u, "name": f"单位{u}", "kind": "school"}
                                    for u in range(1, 51)])
        conn.execute(insert(Person), [
            {"id": i, "name": f"人员{i}", "unit_id": 1 + i % 50, "role": "staff",
             "language": "zh", "telegram_id": FIRST_USER + i, "is_active": True}
            for i in range(1, people + 1)
        ])
        questions = [row[0] for row in conn.execute(
            select(Question.id).where(Question.kind.in_(list(POLL_KINDS))).order_by(Question.id)
        )]
    engine.dispose()
    return questions


def _open_polls(db_path: Path, people: int, questions: list[int]) -> None:
    """Every person mid-session, one poll sent and unanswered."""
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.begin() as conn:
        conn.execute(insert(QuizSession), [
            {"id": i, "person_id": i, "kind": "quiz", "chat_id": FIRST_USER + i, "length": 10,
             "asked": 1, "correct": 0, "asked_ids": [questions[i % len(questions)]],
             "current_question_id": questions[i % len(questions)], "current_sent_at": NOW,
             "started_at": NOW}
            for i in range(1, people + 1)
        ])
        conn.execute(insert(QuizPoll), [
            {"poll_id": f"open-{i}", "person_id": i, "question_id": questions[i % len(questions)],
             "session_id": i, "chat_id": FIRST_USER + i, "message_id": 1,
             "option_order": [0, 1, 2, 3][:2], "sent_at": NOW}
            for i in range(1, people + 1)
        ])
    engine.dispose()


def _answer(i: int) -> Update:
    user = User(FIRST_USER + i, f"人员{i}", is_bot=False)
    return Update(i, poll_answer=PollAnswer(f"open-{i}", [i % 2], user=user,
                                            option_persistent_ids=[str(i % 2)]))


def _help(i: int, bot: Any) -> Update:
    user = User(FIRST_USER + i, f"人员{i}", is_bot=False)
    message = Message(i, NOW, Chat(user.id, Chat.PRIVATE), from_user=user, text="/help",
                      entities=[MessageEntity(MessageEntity.BOT_COMMAND, 0, 5)])
    message.set_bot(bot)
    return Update(1_000_000 + i, message=message)


async def _drive(app: Any, updates: list[Update], concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one(update: Update) -> None:
        async with gate:
            await app.process_update(update)

    started = time.perf_counter()
    await asyncio.gather(*(one(u) for u in updates))
    return time.perf_counter() - started


async def answers(people: int, concurrency: int, *, limited: bool, rounds: int = 10) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "answers.db"
        await asyncio.to_thread(upgrade, f"sqlite:///{db_path}")
        await _load_bank(db_path)
        questions = await asyncio.to_thread(_people, db_path, people)
        await asyncio.to_thread(_open_polls, db_path, people, questions)
        config = _config(db_path)
        services = build_services(config, clock=FrozenClock(NOW + timedelta(seconds=8)))
        request, base_request = _Recorder(), _Recorder()
        app = build_application(config, services=services, request=request, updater=False,
                                rate_limiter=None if limited else SendAtOnce())
        # The baseline's own application, never paced: only what is compared is limited.
        baseline = build_application(config, services=services, request=base_request,
                                     updater=False, rate_limiter=SendAtOnce())
        wall = base_wall = 0.0
        async with app, baseline:
            # What post-init does in the running bot: the linked people are known to flood
            # control, or all but the first few would share the strangers' budget and be
            # dropped before the gate.
            await services.flood.start()
            heap.settle()  # as post-init does once the bot has started
            before = request.calls
            everyone = list(range(1, people + 1))
            step = max(1, -(-people // rounds))
            for start in range(0, people, step):
                chunk = everyone[start:start + step]
                base_wall += await _drive(baseline, [_help(i, baseline.bot) for i in chunk],
                                          concurrency)
                wall += await _drive(app, [_answer(i) for i in chunk], concurrency)
            sent = request.calls - before
            async with services.session() as s:
                answered = (await s.execute(text(
                    "SELECT count(*) FROM quiz_polls WHERE answered_at IS NOT NULL"))).scalar_one()
                stored = (await s.execute(text("SELECT count(*) FROM quiz_polls"))).scalar_one()
        await services.db.dispose()
    rate, base_rate = people / wall, people / base_wall
    limiter = "the bot's send pacing (30 sends/s)" if limited else "no send limiter"
    print(f"poll answers: {people} people, {concurrency} updates in flight, SQLite, {limiter};"
          f" /help unlimited, interleaved in {-(-people // step)} rounds")
    print(f"  /help baseline     {base_rate:8.1f} updates/s  ({base_wall:.1f} s)")
    print(f"  poll answers       {rate:8.1f} answers/s  ({wall:.1f} s) = {rate / base_rate:.2f}"
          " × the baseline")
    print(f"  answered {answered}, next polls sent {sent}, polls stored {stored - people}")


def _history(db_path: Path, reviews: int) -> int:
    """`reviews` reviews and cards: 10 cards per person, due times spread over 30 days."""
    rng = random.Random(5)
    people = reviews // 10
    questions = _people(db_path, people)
    engine = create_engine(f"sqlite:///{db_path}")
    cards, logs = [], []
    for person in range(1, people + 1):
        for k, question in enumerate(rng.sample(questions, 10)):
            due = NOW + timedelta(minutes=rng.randint(-3 * 24 * 60, 30 * 24 * 60))
            cards.append({"person_id": person, "question_id": question, "state": 2, "step": None,
                          "stability": 5.0, "difficulty": 5.0, "due": due,
                          "last_review": due - timedelta(days=5), "reps": 1, "lapses": 0})
            logs.append({"person_id": person, "question_id": question,
                         "at": due - timedelta(days=5, minutes=k), "rating": 3, "correct": True,
                         "score": 1.0, "duration_ms": 9000, "kind": SessionKind.QUIZ.value})
    with engine.begin() as conn:
        conn.execute(insert(QuizCard), cards)
        conn.execute(insert(QuizReview), logs)
    engine.dispose()
    return people


async def _time_picks(db_path: Path, people: int) -> tuple[float, float]:
    """Median ms of choosing the next question, and of a primary-key fetch (baseline)."""
    services = build_services(_config(db_path))
    sample = random.Random(9).sample(range(1, people + 1), 300)
    picks, fetches = [], []
    async with services.session() as session:
        for person in sample[:20]:  # warm the statement caches
            await pick_next(session, person_id=person, now=NOW, kinds=POLL_KINDS)
        for person in sample:
            started = time.perf_counter()
            question = await pick_next(session, person_id=person, now=NOW, kinds=POLL_KINDS)
            picks.append(time.perf_counter() - started)
            assert question is not None
            started = time.perf_counter()
            await session.execute(select(Person.name).where(Person.id == person))
            fetches.append(time.perf_counter() - started)
    await services.db.dispose()
    return statistics.median(picks) * 1000, statistics.median(fetches) * 1000


def _plan(db_path: Path) -> str:
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.connect() as conn:
        rows = conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT quiz_cards.id FROM quiz_cards JOIN quiz_questions "
            "ON quiz_questions.id = quiz_cards.question_id WHERE quiz_cards.person_id = 7 "
            "AND quiz_cards.due <= '2026-11-23 01:00:00' ORDER BY quiz_cards.due LIMIT 1"
        )).all()
    engine.dispose()
    return "; ".join(str(row[-1]) for row in rows)


async def pick(reviews: int) -> None:
    results = []
    plan = ""
    for size in (reviews // 10, reviews):
        with tempfile.TemporaryDirectory() as tmp:
            db_path = Path(tmp) / "pick.db"
            await asyncio.to_thread(upgrade, f"sqlite:///{db_path}")
            await _load_bank(db_path)
            people = await asyncio.to_thread(_history, db_path, size)
            picked, fetched = await _time_picks(db_path, people)
            plan = _plan(db_path)
        results.append((size, people, picked, fetched))
    print("next card (due first, then new) on SQLite, median of 300 people:")
    print("  reviews  people  pick ms  pk-fetch ms  pick/pk  growth")
    base = results[0][2] / results[0][3]
    for size, people, picked, fetched in results:
        ratio = picked / fetched
        print(f"  {size:>7}  {people:>6}  {picked:>7.2f}  {fetched:>11.2f}  {ratio:>7.2f}"
              f"  {ratio / base:>6.2f}")
    print(f"  query plan: {plan}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.quiz")
    parser.add_argument("what", nargs="?", choices=("answers", "limited", "pick", "all"), default="all")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=10,
                        help="alternations of /help and answers (the baseline interleaved)")
    args = parser.parse_args()
    if args.what in ("answers", "all"):
        asyncio.run(answers(args.people, args.concurrency, limited=False, rounds=args.rounds))
    if args.what in ("limited", "all"):
        asyncio.run(answers(args.people, args.concurrency, limited=True, rounds=args.rounds))
    if args.what in ("pick", "all"):
        asyncio.run(pick(args.reviews))


if __name__ == "__main__":
    main()
