"""`inspectbot indicators …` on a real database: the workbook out and back in, the status."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.utils.indicators import CAMPAIGN, fill_schools


@pytest.fixture
def cli_config(database_url: str, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n[storage]\ndata_dir = "{tmp_path / "data"}"\n',
        encoding="utf-8",
    )
    return path


def _run(config: Path, *args: str) -> int:
    return main(["-c", str(config), *args])


def test_template_import_and_status_from_the_command_line(
    cli_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(cli_config, "indicators", "status") == 1
    assert "尚未建立迎检工作" in capsys.readouterr().err
    assert _run(cli_config, "setup", str(CAMPAIGN)) == 0
    capsys.readouterr()

    template = tmp_path / "template.xlsx"
    assert _run(cli_config, "indicators", "template", str(template), "--year", "2026") == 0
    assert "2026 学年" in capsys.readouterr().out
    filled = tmp_path / "filled.xlsx"
    filled.write_bytes(fill_schools(template.read_bytes(), {
        ("石门镇中心小学", "小学"): {"students": 640, "books": -3}}))
    assert _run(cli_config, "indicators", "import", str(filled)) == 1
    assert "不能为负" in capsys.readouterr().out

    filled.write_bytes(fill_schools(template.read_bytes(), {
        ("石门镇中心小学", "小学"): {"students": 640, "books": 5888}}))
    # Not a terminal and no --yes: the preview, then a refusal to write.
    assert _run(cli_config, "indicators", "import", str(filled)) == 1
    captured = capsys.readouterr()
    assert "将更新 2 项" in captured.out and "未导入" in captured.err
    assert _run(cli_config, "indicators", "import", "--yes", str(filled)) == 0
    assert "导入完成（2026 学年）" in capsys.readouterr().out

    assert _run(cli_config, "indicators", "sample") == 0
    assert "9 所学校" in capsys.readouterr().out
    assert _run(cli_config, "indicators", "status") == 0
    status = capsys.readouterr().out
    assert "尚不能通过认定" in status and "小学综合差异系数 0.66" in status
    assert "<b>" not in status
    assert _run(cli_config, "indicators", "standard", "quality-balance-2017") == 0
    assert "quality-balance-2017" in capsys.readouterr().out
