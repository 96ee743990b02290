"""Benchmark: how long the demo takes to be ready, on its first run and on a restart.

    .venv/bin/python -m bench.demo [--repeat 3]

baseline  what every start of the demo used to do: upgrade an empty SQLite file and load
          the sample with `seed-demo` (setup + import, no history)
first     the first run now: the same, plus the replayed history (task events, evidence
          photos stored and reviewed) and three weeks of quiz practice
restart   a later start: the first run's database kept, its schema checked

Each run gets a fresh temporary data directory. The best of `--repeat` runs is reported
in seconds and as a ratio to the baseline run in the same process; the sandbox and the
bot's own start-up (the same in every case) are left out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bot.config import AppConfig
from bot.demo.cli import demo_config, prepare_database
from bot.tables.cli import EXAMPLES_DIR, cmd_seed_demo

TODAY = date(2026, 11, 29)


def _config(data: Path) -> AppConfig:
    return AppConfig.model_validate({"storage": {"data_dir": str(data)}})


def _baseline(data: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        code = cmd_seed_demo(demo_config(_config(data)), argparse.Namespace(dir=EXAMPLES_DIR))
    assert code == 0


def _first(data: Path) -> None:
    prepared = asyncio.run(prepare_database(_config(data), EXAMPLES_DIR, TODAY))
    assert prepared.seeded is not None


def _restart(data: Path) -> None:
    prepared = asyncio.run(prepare_database(_config(data), EXAMPLES_DIR, TODAY))
    assert prepared.seeded is None


def _best(repeat: int, work: Callable[[Path], None], *, prepare: bool = False) -> float:
    best = float("inf")
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
            data = Path(tmp)
            if prepare:
                _first(data)
            started = time.perf_counter()
            work(data)
            best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    baseline = _best(args.repeat, _baseline)
    first = _best(args.repeat, _first)
    restart = _best(args.repeat, _restart, prepare=True)
    print(f"{'case':<10}{'seconds':>10}{'× baseline':>12}")
    for name, seconds in (("baseline", baseline), ("first", first), ("restart", restart)):
        print(f"{name:<10}{seconds:>10.2f}{seconds / baseline:>12.2f}")


if __name__ == "__main__":
    main()
