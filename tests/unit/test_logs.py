"""Issue 11, row 14: no token, invite code or phone number in any log line, at any level."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import setup_logging
from bot.config import load_config
from bot.core.logs import Redactor
from bot.core.onboarding import new_code

TOKEN = "123456789:AAH-secret-token-value"


def _record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("x", logging.DEBUG, __file__, 1, message, args or None, info)


def _formatted(record: logging.LogRecord, redactor: Redactor | None = None) -> str:
    assert (redactor or Redactor([TOKEN])).filter(record)
    return logging.Formatter().format(record)


def test_token_is_redacted_from_log_records() -> None:
    text = _formatted(_record("HTTP Request: POST https://api.telegram.org/bot%s/getUpdates", TOKEN))
    assert TOKEN not in text and "<secret>" in text


@pytest.mark.parametrize(
    "template",
    [
        "/start {code}",
        "https://t.me/yingjian_bot?start={code}",
        "'text': '邀请码：<code>{code}</code>'",
        "邀请码{code}已发出",
        "[parameters: ('{code}', 3)]",
        '{{"code": "{code}"}}',
    ],
)
def test_invite_codes_are_redacted_wherever_they_stand(template: str) -> None:
    for _ in range(50):
        code = new_code()
        text = _formatted(_record(template.format(code=code)))
        assert code not in text, text
        assert "<code>" in text


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("备注：联系人 13800138000", "13800138000"),
        ("call +86 138 0013 8000 please", "138 0013 8000"),
        ("+8613912345678", "13912345678"),
        ("Contact(first_name='张三', phone_number='+442071838750')", "442071838750"),
        ('{"phone_number": "555-0100-77"}', "555-0100-77"),
        ("办公室 0571-88886666", "88886666"),
    ],
)
def test_phone_numbers_are_redacted(text: str, phone: str) -> None:
    assert phone not in _formatted(_record(text))


@pytest.mark.parametrize(
    "text",
    ["task:done:42", "update 874512", "2026-12-15 17:30:00+08:00", "chat -1001234567890",
     "file_id AgACAgUAAxkBAAIBZ2Zt8", "took 1732245600123 ms"],
)
def test_ordinary_lines_are_left_alone(text: str) -> None:
    assert _formatted(_record(text)) == text


def test_a_traceback_is_redacted_too() -> None:
    code = new_code()
    try:
        raise ValueError(f"invite {code} for 13800138000 via {TOKEN}")
    except ValueError as exc:
        text = _formatted(_record("failed", exc=exc))
    assert "ValueError" in text
    for secret in (code, "13800138000", TOKEN):
        assert secret not in text


def test_cli_at_debug_logs_no_code_phone_or_token(tmp_path: Path) -> None:
    """`inspectbot -v invite` in its own process: stdout has the code, stderr (the log) not."""
    db = tmp_path / "cli.db"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\n'
        f'[database]\nurl = "sqlite:///{db}"\n[storage]\ndata_dir = "{tmp_path}"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSPECTBOT_")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", "-v", "-c", str(config), *args],
                              capture_output=True, text=True, env=env, timeout=120, check=False)

    assert cli("db", "upgrade").returncode == 0
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO persons (name, role, language, phone, is_active, created_at) "
                     "VALUES ('李四', 'responsible', 'zh', '13800138000', 1, '2026-11-01')")
    done = cli("invite", "李四")
    assert done.returncode == 0, done.stderr
    code = done.stdout.split(": ", 1)[1].split()[0]
    log = done.stderr
    assert "SELECT" in log and "INSERT INTO invites" in log  # -v does show the statements
    assert code not in log
    assert "13800138000" not in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log


def test_the_object_store_secrets_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    """The S3 secret key and session token, given in the environment, never reach the log."""
    secret, session = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzEJr//temporary"
    config = load_config(None, environ={"INSPECTBOT_S3_SECRET_ACCESS_KEY": secret,
                                        "INSPECTBOT_S3_SESSION_TOKEN": session})
    handler = setup_logging(config, verbose=True)
    try:
        logging.getLogger("bot.evidence.s3").error("signing with %s and %s", secret, session)
    finally:
        logging.getLogger().removeHandler(handler)
    log = capsys.readouterr().err
    assert "signing with <secret> and <secret>" in log
    assert secret not in log and session not in log
