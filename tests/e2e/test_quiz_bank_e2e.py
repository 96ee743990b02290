"""The question bank with the bot running against the sandbox: the starter bank is loaded
at start-up and serves /quiz and /ask; a broken bank imported by the office changes nothing."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import func, select

from bot.quiz.bank import STARTER_BANK, parse_yaml
from bot.quiz.cli import run_bank
from db.models import Question, Role
from sandbox import SandboxClient
from tests.e2e.conftest import LiveBot
from tests.utils import factories as f

ZHANG = 7302


async def _link(bot: LiveBot) -> None:
    async with bot.services.session() as s:
        await f.person(s, "张三", telegram_id=ZHANG, role=Role.STAFF)


async def test_the_starter_bank_is_loaded_valid_and_serves_quizzes(
    polling_bot: LiveBot, sandbox: SandboxClient
) -> None:
    shipped = parse_yaml(STARTER_BANK.read_text(encoding="utf-8"))  # raises if invalid
    async with polling_bot.services.session() as s:
        count = (await s.execute(select(func.count(Question.id)))).scalar_one()
    assert count == len(shipped.questions) >= 100

    await _link(polling_bot)
    zhang = await sandbox.add_user("张三", user_id=ZHANG)
    await zhang.send("/quiz FJ")
    await zhang.expect_message(contains="一票否决")
    poll = await zhang.expect_poll()
    assert poll.poll is not None and 2 <= len(poll.poll["options"]) <= 10
    await zhang.send("/ask 差异系数")
    found = await zhang.expect_message(contains="🔎")
    assert "0.65" in found.text or "0.55" in found.text


async def test_a_broken_bank_is_refused_with_row_errors_and_nothing_changes(
    polling_bot: LiveBot, sandbox: SandboxClient, tmp_path: Path
) -> None:
    broken = STARTER_BANK.read_text(encoding="utf-8").replace(
        "“两基”是哪两项工作的简称？", "“两基”是哪两项工作的简称？" + "很长" * 160, 1
    ).replace("    correct: [1]\n", "    correct: [7]\n", 1)
    path = tmp_path / "bank.yaml"
    path.write_text(broken, encoding="utf-8")
    async with polling_bot.services.session() as s:
        before = {q.key: q.text for q in (await s.execute(select(Question))).scalars()}

    out, err = io.StringIO(), io.StringIO()
    code = await run_bank(polling_bot.services.config, "import", path, out=out, err=err)
    assert code == 1 and out.getvalue() == ""
    report = err.getvalue().splitlines()
    assert report[0] == "题库文件有 2 处错误，未导入任何内容。"
    assert "（q001）：question 长 334 字，超过 Telegram 上限 300 字。" in report[1]
    assert "正确答案序号超出范围" in report[2]
    async with polling_bot.services.session() as s:
        after = {q.key: q.text for q in (await s.execute(select(Question))).scalars()}
    assert after == before

    # The running bot keeps serving the bank it had.
    await _link(polling_bot)
    zhang = await sandbox.add_user("张三", user_id=ZHANG)
    await zhang.send("/quiz JC")
    poll = await zhang.expect_poll()
    assert poll.poll is not None and "很长很长" not in str(poll.poll["question"])
