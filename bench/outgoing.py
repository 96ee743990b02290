"""Benchmark: what fitting texts into Telegram's limits costs, and who waits for a 429.

    .venv/bin/python -m bench.outgoing [split|flood|all] [--repeat 200]

split  `split_html` on three texts the bot sends — a task card with a 4,165-character
       description, a page of 30 list lines, a 100,000-character report — against a
       baseline of parsing the same HTML once the way Telegram does
       (`sandbox.textfmt.parse_html`), in the same process. Prints µs per text and the
       ratio to the baseline.
flood  The real bot polls a sandbox with Telegram's per-chat pace as the demo sets it
       (1 message a second, bursts of 3). A leader asks for a task's 25 photos; once the
       first album of ten has arrived (the next one now waits out a 429), another person
       sends /tasks. Timed: that person's wait for the answer, and the whole album. Run
       twice in one process, with the bot's pacing (a 429 goes back to the caller) and
       with PTB's AIORateLimiter(max_retries=3) as before (it sleeps out a 429 itself and
       holds every other request meanwhile); the ratio compares the two.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from PIL import Image
from telegram.ext import AIORateLimiter, BaseRateLimiter

from bot.app import build_application
from bot.config import AppConfig
from bot.core.clock import SystemClock
from bot.core.textfit import split_html
from bot.delivery.pacing import Pacing
from bot.services import Services, build_services
from db.migrate import upgrade
from db.models import Campaign, Person, Role, Task, Unit, UnitKind
from sandbox import RateLimitConfig, SandboxClient, SandboxServer
from sandbox.textfmt import parse_html

OWNER, LEADER, OTHER = 810001, 810002, 810003
PHOTOS = 25


# split ---------------------------------------------------------------------------------

def _texts() -> dict[str, str]:
    card = ("📌 <b>任务 #12</b>　完善控辍保学台账\n🏢 责任单位：县教育局\n👤 责任人：张三\n"
            "⏰ 截止：2026-12-15 17:30　（还剩 23 天）\n📊 状态：进行中　进度 40%\n📝 "
            + ("各校功能室建设情况逐一核对并拍照存档，" * 220)[:4165])
    lines = "\n".join(f"#{n} 完善义务教育均衡发展督导评估佐证材料并按指标编码归档整理\n"
                      f"　　🔴 逾期 {n} 天｜<b>进行中</b> {n}%" for n in range(30))
    report = "\n".join(f"{n}. <b>第{n}项</b> 学校标准化建设 &amp; 图书配备情况：达标率 {n % 100}%"
                       for n in range(2000))[:100_000]
    return {"card (4,165-char description)": card, "30 list lines": lines,
            "report (100,000 chars)": report}


def _time(call: Callable[[], Any], repeat: int) -> float:
    """The median of `repeat` runs, in seconds."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def bench_split(repeat: int) -> None:
    for name, text in _texts().items():
        parts = split_html(text)
        baseline = _time(lambda text=text: parse_html(text), repeat)  # type: ignore[misc]
        cost = _time(lambda text=text: split_html(text), repeat)  # type: ignore[misc]
        print(f"split {name}: {len(parts)} part(s), {cost * 1e6:.0f} µs; "
              f"baseline parse_html {baseline * 1e6:.0f} µs; ratio {cost / baseline:.2f}")


# flood ---------------------------------------------------------------------------------

def _photo(seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (32, 24), rng.randbytes(32 * 24 * 3)).resize((160, 120))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def _config(root: Path, client: SandboxClient) -> AppConfig:
    return AppConfig.model_validate({
        "database": {"url": f"sqlite:///{root / 'bot.db'}"},
        "storage": {"data_dir": str(root / "data")},
        "telegram": {"token": client.token, "base_url": client.base_url,
                     "base_file_url": client.base_file_url},
    })


async def _start(config: AppConfig, services: Services, limiter: BaseRateLimiter[Any]) -> Any:
    app = build_application(config, services=services, rate_limiter=limiter)
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()
    return app


async def _stop(app: Any) -> None:
    if app.updater.running:
        await app.updater.stop()
    await app.stop()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
    await app.shutdown()


async def _seed(services: Services) -> int:
    async with services.session() as s:
        campaign = Campaign(name="bench", timezone="Asia/Shanghai")
        unit = Unit(name="县教育局", kind=UnitKind.DEPARTMENT)
        s.add_all([campaign, unit])
        await s.flush()
        people = [Person(name=name, unit_id=unit.id, role=role, telegram_id=telegram_id,
                         language="zh")
                  for name, role, telegram_id in (
                      ("张三", Role.RESPONSIBLE, OWNER), ("王局长", Role.RESPONSIBLE, LEADER),
                      ("李四", Role.RESPONSIBLE, OTHER))]
        s.add_all(people)
        await s.flush()
        unit.leader_id = people[1].id
        task = Task(campaign_id=campaign.id, key="photos", title="校园安全设施照片",
                    unit_id=unit.id, owner_id=people[0].id,
                    due_at=SystemClock().now() + timedelta(days=5))
        s.add(task)
        await s.flush()
        return task.id


async def _one_run(
    client: SandboxClient, config: AppConfig, limiter: BaseRateLimiter[Any], task_id: int,
) -> tuple[float, float]:
    services = build_services(config)
    app = await _start(config, services, limiter)
    try:
        # A fresh quota for every run (reconfiguring forgets what was used).
        await client.set_rate_limits(enabled=True, private_burst=3, private_per_second=1)
        leader, other = (await client.add_user("王局长", user_id=LEADER, started=True),
                         await client.add_user("李四", user_id=OTHER, started=True))
        start = time.perf_counter()
        await leader.send(f"/evidence {task_id}")
        await leader.expect_messages(10, where=lambda m: bool(m.photo), timeout=60)
        asked = time.perf_counter()
        await other.send("/tasks")
        await other.expect_message(contains="没有未完成的任务", timeout=60)
        other_wait = time.perf_counter() - asked
        await leader.expect_messages(PHOTOS - 10, where=lambda m: bool(m.photo), timeout=120)
        return other_wait, time.perf_counter() - start
    finally:
        await _stop(app)
        await services.db.dispose()


async def bench_flood() -> None:
    results: dict[str, tuple[float, float]] = {}
    for name, make in (("pacing", Pacing),
                       ("AIORateLimiter(max_retries=3)", lambda: AIORateLimiter(max_retries=3))):
        with tempfile.TemporaryDirectory(prefix="bench-outgoing-") as tmp:
            server = SandboxServer(rate_limits=RateLimitConfig(enabled=False))
            await server.start()
            client = SandboxClient.for_server(server)
            try:
                config = _config(Path(tmp), client)
                await asyncio.to_thread(upgrade, config.database.url)
                services = build_services(config)
                task_id = await _seed(services)
                await services.db.dispose()
                # The owner's photos arrive through the bot, limits off (not timed).
                app = await _start(config, build_services(config), Pacing())
                try:
                    owner = await client.add_user("张三", user_id=OWNER, started=True)
                    for first in range(0, PHOTOS, 10):
                        count = min(10, PHOTOS - first)
                        await owner.send_album([_photo(n) for n in range(first, first + count)],
                                               caption=f"#{task_id}")
                        await owner.expect_message(contains=f"收到 {count} 份", timeout=60)
                finally:
                    await _stop(app)
                results[name] = await _one_run(client, config, make(), task_id)
            finally:
                await client.close()
                await server.stop()
    ours, before = results["pacing"], results["AIORateLimiter(max_retries=3)"]
    for name, (other_wait, album) in results.items():
        print(f"flood {name}: another person's answer {other_wait:.2f} s; "
              f"{PHOTOS} photos in {album:.1f} s")
    print(f"flood ratio (pacing / before): another person's wait {ours[0] / before[0]:.3f}; "
          f"album {ours[1] / before[1]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.outgoing")
    parser.add_argument("part", nargs="?", default="all", choices=["split", "flood", "all"])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    if args.part in ("split", "all"):
        bench_split(args.repeat)
    if args.part in ("flood", "all"):
        asyncio.run(bench_flood())


if __name__ == "__main__":
    main()
