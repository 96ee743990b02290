"""The demo's first-run seed, made once per start date in a test session and copied.

Seeding replays a campaign's history through the services (a few seconds); tests that
only need a seeded demo database start from a copy of the one made for their date.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.config import AppConfig
from bot.demo.cli import DB_FILE, Prepared, prepare_database
from bot.demo.seed import Seeded
from bot.tables.cli import EXAMPLES_DIR


def demo_app_config(data_dir: Path) -> AppConfig:
    return AppConfig.model_validate(
        {"storage": {"data_dir": str(data_dir)}, "telegram": {"admin_ids": []}}
    )


@dataclass
class DemoSeeds:
    root: Path
    _made: dict[date, Seeded] = field(default_factory=dict)

    async def install(self, data_dir: Path, today: date) -> Seeded:
        """`data_dir` as a first run on `today` would leave it."""
        source = self.root / today.isoformat()
        if today not in self._made:
            prepared: Prepared = await prepare_database(demo_app_config(source), EXAMPLES_DIR,
                                                        today)
            assert prepared.seeded is not None
            self._made[today] = prepared.seeded
        await asyncio.to_thread(_copy, source, data_dir)
        return self._made[today]


def _copy(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / DB_FILE, target / DB_FILE)
    shutil.copytree(source / "evidence", target / "evidence", dirs_exist_ok=True)
