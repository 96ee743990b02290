"""Benchmark: evidence uploads through the sandbox, and a large archive export.

    .venv/bin/python -m bench.evidence [upload|archive|all] [--photos 1000] [--users 10]
                                       [--files 10000] [--file-kb 200]

upload   The real bot polls a sandbox Bot API server (flood limits off: this measures
         the bot, not Telegram's quotas). `--users` people each send `--photos/--users`
         distinct photos captioned `#<task>`; timed from the first send until every
         Evidence row exists. Then every row is checked: the stored file's SHA-256 equals
         the row's and the bytes the sandbox served, and each content is stored once.
         Baseline, same process and bot: the same number of `/help` round trips.
archive  Writes `--files` random files (default 10,000 × 200 KB ≈ 2 GB) into a
         content-addressed store with their Evidence rows, then builds the ZIP. Reports
         the time, the ratio to a baseline that only reads and hashes the same files
         into one output file, and the resident memory of this process: its peak while
         building (VmHWM, reset right before) against its size just before building.
         The archive part runs in a fresh process when `all` is given. Temporary files
         are deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy import create_engine, func, insert, select

from bot.app import build_application
from bot.config import AppConfig
from bot.evidence.archive import build_archive
from bot.evidence.store import CHUNK, local_store
from bot.evidence.views import archive_labels
from bot.services import build_services
from bot.texts import Texts
from db.migrate import upgrade
from db.models import (
    Campaign,
    Evidence,
    EvidenceKind,
    EvidenceStatus,
    Indicator,
    Person,
    Task,
    Unit,
)
from db.session import Database
from sandbox import RateLimitConfig, SandboxClient, SandboxServer

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=ZONE)


# Memory --------------------------------------------------------------------------------


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    # "5" resets the peak resident set size (VmHWM) to the current one (Linux ≥ 4.0).
    Path("/proc/self/clear_refs").write_text("5")


# Uploads through the sandbox -----------------------------------------------------------


def _photo(seed: int) -> bytes:
    rng = random.Random(seed)
    noise = Image.frombytes("RGB", (64, 48), rng.randbytes(64 * 48 * 3)).resize((480, 360))
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _config(root: Path, client: SandboxClient) -> AppConfig:
    return AppConfig.model_validate({
        "database": {"url": f"sqlite:///{root / 'bot.db'}"},
        "storage": {"data_dir": str(root / "data")},
        "telegram": {"token": client.token, "base_url": client.base_url,
                     "base_file_url": client.base_file_url},
    })


def _seed_people(url: str, users: int) -> list[tuple[int, int]]:
    """One unit, `users` linked owners with one task each: (telegram id, task id)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        campaign = conn.execute(insert(Campaign).values(
            name="bench", timezone="Asia/Shanghai", is_active=True,
            created_at=datetime(2026, 9, 1, tzinfo=UTC)).returning(Campaign.id)).scalar_one()
        unit = conn.execute(insert(Unit).values(name="县教育局", kind="department")
                            .returning(Unit.id)).scalar_one()
        pairs = []
        for n in range(users):
            person = conn.execute(insert(Person).values(
                name=f"责任人{n}", unit_id=unit, role="responsible", language="zh",
                telegram_id=700000 + n, is_active=True,
                created_at=datetime(2026, 9, 1, tzinfo=UTC)).returning(Person.id)).scalar_one()
            task = conn.execute(insert(Task).values(
                campaign_id=campaign, key=f"k{n}", title=f"任务{n}", description="",
                unit_id=unit, owner_id=person, priority=2, status="in_progress", progress=0,
                evidence_required=0, created_at=datetime(2026, 9, 1, tzinfo=UTC),
                updated_at=datetime(2026, 9, 1, tzinfo=UTC)).returning(Task.id)).scalar_one()
            pairs.append((700000 + n, task))
    engine.dispose()
    return pairs


async def _wait_for(db: Database, count: int, seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while True:
        async with db.session() as session:
            found = (await session.execute(select(func.count()).select_from(Evidence))).scalar_one()
        if found >= count:
            return
        if time.perf_counter() > deadline:
            raise TimeoutError(f"only {found} of {count} evidence rows after {seconds}s")
        await asyncio.sleep(0.05)


async def bench_upload(photos: int, users: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as tmp:
        root = Path(tmp)
        server = SandboxServer(rate_limits=RateLimitConfig(enabled=False))
        await server.start()
        client = SandboxClient.for_server(server)
        config = _config(root, client)
        await asyncio.to_thread(upgrade, config.database.url)
        owners = _seed_people(config.database.url, users)
        services = build_services(config)
        app = build_application(config, services=services)
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        await app.start()
        try:
            sims = [await client.add_user(f"U{n}", user_id=uid, started=True)
                    for n, (uid, _) in enumerate(owners)]
            per_user = photos // users
            data = [[_photo(u * per_user + i) for i in range(per_user)] for u in range(users)]

            async def helps(user: int) -> None:
                for _ in range(per_user):
                    await sims[user].send("/help")
                await sims[user].expect_messages(per_user, contains="可用命令", timeout=120)

            start = time.perf_counter()
            await asyncio.gather(*(helps(u) for u in range(users)))
            baseline = time.perf_counter() - start

            async def upload(user: int) -> None:
                task_id = owners[user][1]
                for blob in data[user]:
                    await sims[user].send_photo(blob, caption=f"#{task_id}")

            start = time.perf_counter()
            await asyncio.gather(*(upload(u) for u in range(users)))
            await _wait_for(services.db, per_user * users, seconds=600)
            elapsed = time.perf_counter() - start
            _check_uploads(services.db.url, config, server)
        finally:
            if app.updater.running:
                await app.updater.stop()
            await app.stop()
            if app.post_shutdown is not None:
                await app.post_shutdown(app)
            await app.shutdown()
            await client.close()
            await server.stop()
    total = per_user * users
    print(f"upload: {total} photos from {users} users in {elapsed:.2f} s "
          f"= {total / elapsed:.0f} photos/s; baseline {total} /help round trips "
          f"{baseline:.2f} s; ratio {elapsed / baseline:.2f}")


def _check_uploads(url: str, config: AppConfig, server: SandboxServer) -> None:
    store = local_store(config.storage.data_dir)
    engine = create_engine(url.replace("+aiosqlite", ""))
    with engine.connect() as conn:
        rows = conn.execute(select(Evidence.file_id, Evidence.sha256, Evidence.size)).all()
    engine.dispose()
    for file_id, sha, size in rows:
        served = server.state.media.get(file_id).data
        stored = store.path_of(sha).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == sha == hashlib.sha256(served).hexdigest()
        assert len(stored) == size
    blobs = [p for p in store.root.glob("??/*") if p.is_file()]
    assert len(blobs) == len({sha for _, sha, _ in rows}) == len(rows), "stored once each"
    print(f"upload check: {len(rows)} rows, {len(blobs)} stored files, every SHA-256 matches "
          "the stored bytes and the bytes the sandbox served")


# The archive ---------------------------------------------------------------------------


def _seed_archive(url: str, data_dir: Path, files: int, file_kb: int) -> int:
    """Random files in the store with one Evidence row each; returns the bytes written."""
    store = local_store(data_dir)
    engine = create_engine(url)
    indicators, units, per_task = 20, 25, 20
    total = 0
    with engine.begin() as conn:
        campaign = conn.execute(insert(Campaign).values(
            name="bench", timezone="Asia/Shanghai", is_active=True,
            created_at=datetime(2026, 9, 1, tzinfo=UTC)).returning(Campaign.id)).scalar_one()
        ind_ids = [conn.execute(insert(Indicator).values(
            code=f"C{i:02d}", name=f"指标{i}", veto=False, description="")
            .returning(Indicator.id)).scalar_one() for i in range(indicators)]
        unit_ids = [conn.execute(insert(Unit).values(name=f"单位{u}", kind="school")
                                 .returning(Unit.id)).scalar_one() for u in range(units)]
        owner = conn.execute(insert(Person).values(
            name="张三", role="responsible", language="zh", is_active=True,
            created_at=datetime(2026, 9, 1, tzinfo=UTC)).returning(Person.id)).scalar_one()
        rows: list[dict[str, object]] = []
        task_id = 0
        for n in range(files):
            if n % per_task == 0:
                task_id = conn.execute(insert(Task).values(
                    campaign_id=campaign, key=f"k{n}", title=f"任务{n // per_task}",
                    description="", unit_id=unit_ids[(n // per_task) % units],
                    indicator_id=ind_ids[(n // per_task) % indicators], owner_id=owner,
                    priority=2, status="submitted", progress=90, evidence_required=0,
                    created_at=datetime(2026, 9, 1, tzinfo=UTC),
                    updated_at=datetime(2026, 9, 1, tzinfo=UTC)).returning(Task.id)).scalar_one()
            source = store.scratch_dir() / f"seed-{n}"
            source.write_bytes(os.urandom(file_kb * 1024))
            blob = store.put_file(source)
            total += blob.size
            rows.append({
                "task_id": task_id, "uploader_id": owner, "kind": EvidenceKind.DOCUMENT.value,
                "file_id": f"f{n}", "file_unique_id": f"u{n}", "file_name": f"IMG_{n:05d}.jpg",
                "mime_type": "image/jpeg", "size": blob.size, "sha256": blob.sha256,
                "description": "", "chat_id": 1, "message_id": n,
                "uploaded_at": NOW + timedelta(seconds=n),
                "status": EvidenceStatus.APPROVED.value, "review_note": "",
            })
            if len(rows) == 1000:
                conn.execute(insert(Evidence), rows)
                rows.clear()
        if rows:
            conn.execute(insert(Evidence), rows)
    engine.dispose()
    return total


def _baseline_copy(store_root: Path, out: Path) -> None:
    """The least any archive must do: read every stored file, hash it, write it out."""
    with out.open("wb") as target:
        for path in sorted(store_root.glob("??/*")):
            digest = hashlib.sha256()
            with path.open("rb") as source:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    target.write(chunk)


async def bench_archive(files: int, file_kb: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root / 'bot.db'}"
        await asyncio.to_thread(upgrade, url)
        t0 = time.perf_counter()
        written = _seed_archive(url, root / "data", files, file_kb)
        print(f"archive seed: {files} files, {written / 1e9:.2f} GB in "
              f"{time.perf_counter() - t0:.1f} s")
        store = local_store(root / "data")

        start = time.perf_counter()
        _baseline_copy(store.root, root / "baseline.bin")
        baseline = time.perf_counter() - start
        (root / "baseline.bin").unlink()

        db = Database(url)
        labels = archive_labels(Texts.load(), "zh")
        out = root / "archive.zip"
        before_kb = _status_kb("VmRSS")
        _reset_peak()
        start = time.perf_counter()
        stats = await build_archive(db, store, out, labels, ZONE)
        elapsed = time.perf_counter() - start
        peak_kb = _status_kb("VmHWM")
        await db.dispose()
        with zipfile.ZipFile(out) as archive:
            members = len(archive.namelist())
        size = out.stat().st_size
        assert stats.files == files and members == files + 1
        assert not stats.missing and not stats.mismatched
        print(f"archive: {stats.files} files, {size / 1e9:.2f} GB ZIP in {elapsed:.1f} s "
              f"({size / 1e6 / elapsed:.0f} MB/s); baseline read+hash+write {baseline:.1f} s; "
              f"ratio {elapsed / baseline:.2f}")
        print(f"archive memory: resident {before_kb / 1024:.0f} MB before building, "
              f"peak {peak_kb / 1024:.0f} MB while building "
              f"(+{(peak_kb - before_kb) / 1024:.0f} MB)")
        shutil.rmtree(root / "data")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("part", nargs="?", choices=("upload", "archive", "all"), default="all")
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--files", type=int, default=10000)
    parser.add_argument("--file-kb", type=int, default=200)
    args = parser.parse_args()
    if args.part in ("upload", "all"):
        asyncio.run(bench_upload(args.photos, args.users))
    if args.part == "archive":
        asyncio.run(bench_archive(args.files, args.file_kb))
    elif args.part == "all":
        # A fresh process, so the upload run's memory does not blur the archive's figure.
        subprocess.run([sys.executable, "-m", "bench.evidence", "archive",
                        "--files", str(args.files), "--file-kb", str(args.file_kb)], check=True)


if __name__ == "__main__":
    main()
