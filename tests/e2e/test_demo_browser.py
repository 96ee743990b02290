"""`make demo` as a person meets it: the sample campaign in the web chat, real bot behind."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import pytest

from bench.screenshot import CHROMIUM, CHROMIUM_ARGS, leader_first_look, settled
from bot.demo.cli import Demo
from tests.utils.demo import DemoSeeds, demo_app_config

SCREENSHOT = Path("/tmp/inspectbot-demo.png")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


async def test_demo_gives_a_working_chat_in_the_browser(
    demo_seeds: DemoSeeds, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    config = demo_app_config(tmp_path / "data")
    await demo_seeds.install(tmp_path / "data", datetime.now(config.zone).date())
    demo = Demo(config)
    await demo.start()
    try:
        owner = next(m for m in demo.cast if m.label == "责任人")
        leader = next(m for m in demo.cast if m.label == "领导")
        await settled(demo)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1200, "height": 860})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            # The leader's first look: a campaign in motion, not everything at 0 %.
            summary = await leader_first_look(page, demo.url, leader.telegram_id)
            text = await summary.inner_text()
            completion = re.search(r"完成率\s*(\d+)%", text)
            assert completion is not None, text
            assert 0 < int(completion.group(1)) < 100, text
            late_days = [int(d) for d in re.findall(r"逾期\s*(\d+)\s*天", text)]
            assert late_days and max(late_days) <= 21, text

            await page.click(f"[data-user-id='{owner.telegram_id}']")
            messages = page.get_by_test_id("messages")
            await page.fill("#text", "/tasks")
            await page.click("#send")
            listing = messages.locator(".row.from-bot").filter(has_text="我的未完成任务")
            await expect(listing).to_be_visible(timeout=10_000)

            await listing.get_by_role("button", name=re.compile(r"^#\d+")).first.click()
            card = messages.locator(".row.from-bot").filter(has_text="责任人：").last
            await expect(card).to_contain_text(owner.name)
            await card.get_by_role("button", name="📈 进度").click()
            await card.get_by_role("button", name="50%").click()
            await expect(card).to_contain_text("进度 50%")
            await page.screenshot(path=str(SCREENSHOT))
            assert errors == []
            await browser.close()
    finally:
        await demo.stop()
