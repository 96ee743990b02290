"""Benchmark: `inspectbot backup` and `inspectbot restore` of a large evidence store.

    .venv/bin/python -m bench.backup [--files 2000] [--file-kb 200]

Writes `--files` random files into a content-addressed store with their Evidence rows
(bench.evidence's seed: 20 files a task), then times a backup (SQLite online copy,
every file hashed against its name, one uncompressed tar) and a restore of that archive
into an empty database and data directory (every member hashed into a staging directory,
verified, then moved into place). The baseline, in the same process, is the least either
must do: read every stored file, hash it and write it into one output file; it runs
before and after the backup, and the faster of the two counts. Reports the seconds and
the ratio to the baseline. Temporary files are deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.evidence import _baseline_copy, _seed_archive
from bot.backup.service import create_backup, restore_backup
from bot.config import AppConfig
from bot.evidence.store import local_store
from db.backup import facts
from db.migrate import upgrade

NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


def _config(root: Path, name: str) -> AppConfig:
    return AppConfig.model_validate({
        "database": {"url": f"sqlite:///{root / name / 'bot.db'}"},
        "storage": {"data_dir": str(root / name / "data")},
    })


async def bench(files: int, file_kb: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp:
        root = Path(tmp)
        source = _config(root, "source")
        (root / "source").mkdir()
        await asyncio.to_thread(upgrade, source.database.url)
        written = await asyncio.to_thread(_seed_archive, source.database.url,
                                          source.storage.data_dir, files, file_kb)
        print(f"seed: {files} files, {written / 1e6:.0f} MB")

        async def copy() -> float:
            started = time.perf_counter()
            await asyncio.to_thread(_baseline_copy, local_store(source.storage.data_dir).root,
                                    root / "baseline.bin")
            (root / "baseline.bin").unlink()
            return time.perf_counter() - started

        first = await copy()
        started = time.perf_counter()
        report = await create_backup(source, root / "backup.tar", now=NOW)
        backup = time.perf_counter() - started
        # Before and after: the page cache and the machine's load change in between.
        second = await copy()
        baseline = min(first, second)
        assert not report.missing and not report.altered
        assert len(report.manifest.evidence) == files

        target = _config(root, "target")
        started = time.perf_counter()
        restored = await restore_backup(target, report.out, force=False)
        restore = time.perf_counter() - started
        assert restored.evidence_files == files and not restored.missing
        after = await facts(target.database.url)
        assert after.counts == report.manifest.counts

        print(f"baseline read+hash+write: {first:.1f} s before, {second:.1f} s after")
        print(f"backup:  {backup:.1f} s, {report.bytes / 1e6:.0f} MB archive, "
              f"ratio {backup / baseline:.2f}")
        print(f"restore: {restore:.1f} s, ratio {restore / baseline:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--file-kb", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(bench(args.files, args.file_kb))


if __name__ == "__main__":
    main()
