"""`make demo` as a person meets it: the sample campaign in the web chat, real bot behind."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
from pathlib import Path

import pytest

from bot.config import AppConfig
from bot.demo.cli import Demo, demo_config
from bot.tables.cli import EXAMPLES_DIR, cmd_seed_demo

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOT = Path("/tmp/inspectbot-demo.png")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


def test_demo_gives_a_working_chat_in_the_browser(config: AppConfig) -> None:
    assert cmd_seed_demo(demo_config(config), argparse.Namespace(dir=EXAMPLES_DIR)) == 0
    asyncio.run(_scenario(config))


async def _scenario(config: AppConfig) -> None:
    from playwright.async_api import async_playwright, expect

    demo = Demo(config)
    await demo.start()
    try:
        owner = next(m for m in demo.cast if m.label == "责任人")
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1200, "height": 860})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(demo.url + "/")
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
