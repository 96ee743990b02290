"""`inspectbot setup/import/export/seed-demo` on a real database: output and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


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


def test_import_asks_first_and_writes_only_when_told(
    cli_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(cli_config, "import", str(EXAMPLES / "breakdown.csv")) == 1
    assert "请先运行 inspectbot setup" in capsys.readouterr().err

    assert _run(cli_config, "setup", str(EXAMPLES / "campaign.toml")) == 0
    assert "单位 26 个（新建 26）" in capsys.readouterr().out

    # Not a terminal and no --yes: the preview, then a refusal to write.
    assert _run(cli_config, "import", str(EXAMPLES / "breakdown.csv")) == 1
    captured = capsys.readouterr()
    assert "新增任务 85 项" in captured.out and "--yes" in captured.err
    assert _run(cli_config, "import", "--dry-run", str(EXAMPLES / "breakdown.csv")) == 0
    assert "试运行" in capsys.readouterr().out

    assert _run(cli_config, "import", "--yes", str(EXAMPLES / "breakdown.csv")) == 0
    assert "导入完成：新增任务 85 项" in capsys.readouterr().out

    exported = tmp_path / "tasks.xlsx"
    assert _run(cli_config, "export", str(exported)) == 0
    assert "已导出 85 项任务" in capsys.readouterr().out
    assert _run(cli_config, "import", str(exported)) == 0
    assert "无变化 85 项" in capsys.readouterr().out


def test_broken_files_exit_non_zero_with_the_reason(
    cli_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(cli_config, "setup", str(EXAMPLES / "campaign.toml")) == 0
    assert _run(cli_config, "import", str(EXAMPLES / "broken" / "bad_rows.csv")) == 1
    assert "第 2 行「截止时间」" in capsys.readouterr().out
    assert _run(cli_config, "import", str(EXAMPLES / "broken" / "missing_column.csv")) == 1
    assert "缺少必需的列：责任人" in capsys.readouterr().err
    assert _run(cli_config, "import", str(EXAMPLES / "broken" / "empty.xlsx")) == 1
    assert "表格是空的" in capsys.readouterr().err
    assert _run(cli_config, "import", str(EXAMPLES / "nothing-here.xlsx")) == 1
    assert _run(cli_config, "setup", str(EXAMPLES / "nothing-here.toml")) == 1
    assert "找不到设置文件" in capsys.readouterr().err


def test_seed_demo_can_run_twice(cli_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(cli_config, "seed-demo") == 0
    assert "导入完成：新增任务 85 项" in capsys.readouterr().out
    assert _run(cli_config, "seed-demo") == 0
    out = capsys.readouterr().out
    assert "新建 0" in out and "无变化 85 项" in out
