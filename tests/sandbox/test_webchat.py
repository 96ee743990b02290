"""The web chat in headless Chromium, against a tiny PTB echo bot."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from sandbox import RateLimitConfig, SandboxClient

from .echo_bot import QUIZ_EXPLANATION, EchoApp

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path("/tmp/sandbox-webchat.png")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.sandbox(rate_limits=RateLimitConfig(enabled=False)),
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


async def test_a_person_chats_with_the_bot_in_the_browser(
    polling_bot: EchoApp,
    sandbox: SandboxClient,
    jpeg: Callable[..., bytes],
    tmp_path: Path,
) -> None:
    from playwright.async_api import async_playwright, expect

    await sandbox.add_user("张三", user_id=1001, role="责任人")
    await sandbox.add_user("李四", user_id=1002, role="领导")
    await sandbox.add_user("王五", user_id=1003, role="工作人员")
    await polling_bot.bot.set_my_commands([("start", "开始使用 Start")])
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(jpeg(900, 600, "seagreen"))

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1200, "height": 820})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(sandbox.url + "/")
        await page.click("[data-user-id='1001']")
        messages = page.get_by_test_id("messages")

        await page.fill("#text", "/start 你好")
        await page.click("#send")
        welcome = messages.locator(".row.from-bot").filter(has_text="欢迎")
        await expect(welcome).to_contain_text("欢迎, 张三! 参数: 你好")
        await expect(welcome.locator("b")).to_have_text("欢迎")
        welcome_id = await welcome.get_attribute("data-message-id")
        welcome = messages.locator(f"[data-message-id='{welcome_id}']")

        await welcome.get_by_role("button", name="开始 Start").click()
        await expect(page.locator("#toast")).to_have_text("收到 begin")
        await expect(welcome).to_contain_text("已开始 Started")  # the edit replaced the text
        await expect(welcome.locator("i")).to_have_text("Started")

        await page.fill("#text", "<script>alert(1)</script> 原样显示")
        await page.click("#send")
        echoed = messages.locator(".row.from-bot").filter(has_text="echo:")
        await expect(echoed).to_contain_text("<script>alert(1)</script> 原样显示")

        await page.fill("#text", "#12")
        await page.set_input_files("#photo-input", str(photo))
        await expect(messages.locator(".row.mine img.photo")).to_have_count(1)
        await expect(messages.locator(".row.from-bot").filter(has_text="got")).to_contain_text(
            "caption=#12"
        )

        await page.fill("#text", "/start")
        await page.click("#send")
        second = messages.locator(".row.from-bot").filter(has_text="欢迎").last
        await second.get_by_role("button", name="测验 Quiz").click()
        poll = messages.locator(".poll")
        await expect(poll).to_contain_text("迎检材料准备几份?")
        await poll.get_by_role("button", name=re.compile("一份")).click()
        await expect(poll.get_by_test_id("verdict")).to_have_text("回答错误 Incorrect")
        await expect(poll.locator(".poll-option.correct")).to_contain_text("两份")
        await expect(poll.locator(".explanation")).to_contain_text(QUIZ_EXPLANATION)
        await expect(messages.locator(".row.from-bot").filter(has_text="你选了")).to_contain_text(
            "[0]"
        )

        await page.click("#cmd-button")
        await expect(page.locator("#commands")).to_contain_text("/start")
        await page.click("#cmd-button")

        await page.screenshot(path=str(SCREENSHOT))
        assert errors == []
        await browser.close()
