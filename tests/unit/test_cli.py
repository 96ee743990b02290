"""The command line: clear refusals, schema management, and no token in any log line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


def _config(tmp_path: Path, body: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "cli.db"}"\n[storage]\ndata_dir = "{tmp_path}"\n'
        + body,
        encoding="utf-8",
    )
    return path


def test_run_without_token_explains_how_to_get_going(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INSPECTBOT_TOKEN", raising=False)
    assert main(["-c", str(_config(tmp_path)), "run"]) == 2
    err = capsys.readouterr().err
    assert "INSPECTBOT_TOKEN" in err and "make demo" in err


def test_bad_config_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path, '[bot]\nlanguage = "zh"\n')
    assert main(["-c", str(path), "db", "status"]) == 2
    assert "[bot] language" in capsys.readouterr().err


def test_db_upgrade_then_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path)
    assert main(["-c", str(path), "db", "status"]) == 1  # empty database: behind
    assert main(["-c", str(path), "db", "upgrade"]) == 0
    assert main(["-c", str(path), "db", "status"]) == 0
    assert "expected" in capsys.readouterr().out
