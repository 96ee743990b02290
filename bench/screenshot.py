"""`python -m bench.screenshot [OUT.png]`: the leader's first look at the demo, for docs/.

Starts the demo in this process on a fresh, temporary data directory (so the sample is
seeded for today and nothing of a local `data/demo.db` is touched), opens the web chat in
Debian's Chromium as the leader, sends /summary and /chart, and saves the chat from the
/summary command down as a PNG (default: docs/demo-leader-summary.png).

Needs the Debian packages `chromium` and `fonts-noto-cjk` (`.ci/run` installs both), and
`fonts-noto-color-emoji` for the icons in the bot's texts; and the dev extra (Playwright
drives the system Chromium; nothing is downloaded).
"""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image

from bot.config import AppConfig
from bot.demo.cli import Demo

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "demo-leader-summary.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# The width of a laptop screen; the height is fitted to the messages shown.
WIDTH, FIRST_HEIGHT = 1180, 2400
SUMMARY_MARK = "工作概览"
TIMEOUT_MS = 30_000


async def settled(demo: Demo, *, quiet: float = 3.0, limit: float = 120.0) -> None:
    """Wait until the bot has sent what it queued at start-up (reminders, escalations)."""
    stats = demo.server.state.stats
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    last, since = -1, loop.time()
    while loop.time() < deadline:
        sent = sum(stats.delivered_per_chat.values())
        if sent != last:
            last, since = sent, loop.time()
        elif loop.time() - since >= quiet:
            return
        await asyncio.sleep(0.5)


async def leader_first_look(page: Any, url: str, leader_id: int) -> Any:
    """As the leader: /summary, then /chart; returns the summary's bubble row."""
    from playwright.async_api import expect

    await page.goto(f"{url}/")
    await page.click(f"[data-user-id='{leader_id}']")
    messages = page.get_by_test_id("messages")
    await page.fill("#text", "/summary")
    await page.click("#send")
    summary = messages.locator(".row.from-bot").filter(has_text=SUMMARY_MARK).last
    await expect(summary).to_be_visible(timeout=TIMEOUT_MS)
    photos = messages.locator(".row.from-bot img.photo")
    before = await photos.count()
    await page.fill("#text", "/chart")
    await page.click("#send")
    await expect(photos).to_have_count(before + 2, timeout=TIMEOUT_MS)
    for index in range(before, before + 2):
        await photos.nth(index).evaluate(
            "img => img.complete ? null : new Promise(done => { img.onload = done; })"
        )
    return summary


# Size the window so the chat shows exactly the /summary command and what followed it.
_FIT = """() => {
  const box = document.getElementById("messages");
  const commands = [...box.querySelectorAll(".row.mine")]
    .filter(row => row.textContent.includes("/summary"));
  const top = commands[commands.length - 1].offsetTop - box.offsetTop - 8;
  const chrome = window.innerHeight - box.clientHeight;
  return {offset: top, height: Math.ceil(box.scrollHeight - top + chrome)};
}"""


async def _frame_from_summary(page: Any) -> None:
    fit = await page.evaluate(_FIT)
    await page.set_viewport_size({"width": WIDTH, "height": int(fit["height"])})
    await page.evaluate(
        "offset => { document.getElementById('messages').scrollTop = offset; }", fit["offset"]
    )
    await page.wait_for_timeout(300)


def _palette_png(png: bytes) -> bytes:
    """The screenshot with an adaptive 256-colour palette: a third of the size, same look."""
    with Image.open(io.BytesIO(png)) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    small.save(out, "PNG", optimize=True)
    return out.getvalue()


async def capture() -> bytes:
    """The PNG of the leader's first look at a freshly seeded demo."""
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory(prefix="inspectbot-screenshot-") as data:
        config = AppConfig.model_validate({"storage": {"data_dir": data}})
        demo = Demo(config)
        await demo.start()
        try:
            leader = next(p for p in demo.cast if p.label == "领导")
            await settled(demo)
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=str(CHROMIUM),
                                                   args=CHROMIUM_ARGS)
                page = await browser.new_page(
                    viewport={"width": WIDTH, "height": FIRST_HEIGHT})
                await leader_first_look(page, demo.url, leader.telegram_id)
                await _frame_from_summary(page)
                png = await page.screenshot()
                await browser.close()
        finally:
            await demo.stop()
    return _palette_png(png)


def _has_font_for(char: str) -> bool:
    """Whether fontconfig knows a font that draws `char` (Chromium draws a box otherwise)."""
    if shutil.which("fc-list") is None:
        return True  # cannot tell; let the picture show it
    found = subprocess.run(["fc-list", f":charset={ord(char):x}", "family"],
                           capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


def main(argv: list[str]) -> int:
    if not CHROMIUM.exists():
        print(f"needs Debian's chromium at {CHROMIUM} (apt-get install -y chromium fonts-noto-cjk)")
        return 2
    for char, package in (("县", "fonts-noto-cjk"), ("📊", "fonts-noto-color-emoji")):
        if not _has_font_for(char):
            print(f"warning: no font draws {char!r}; apt-get install -y {package}")
    out = Path(argv[0]) if argv else OUT
    out.write_bytes(asyncio.run(capture()))
    print(f"{out}: {out.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
