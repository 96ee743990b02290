"""`inspectbot backup` and `inspectbot restore` on a real database (SQLite; PostgreSQL when
TEST_DATABASE_URL is set and pg_dump is on PATH): the restored bot shows the same tasks,
files and hashes; what must be refused is refused before anything changes."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import tarfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from bot.app import build_application
from bot.backup.service import create_backup
from bot.cli import main
from bot.config import AppConfig
from bot.core.clock import FrozenClock
from bot.evidence.backends import s3_store
from bot.evidence.store import sha256_of
from bot.services import Services, build_services
from db import backup as db_backup
from db.migrate import expected_head, upgrade
from db.models import Evidence, PendingImport, Role, Task
from handlers.context import AppType
from tests.conftest import DEFAULT_NOW, PG_URL, UNLIMITED_FLOOD
from tests.utils import factories as f
from tests.utils.evidence_files import jpeg
from tests.utils.s3 import MotoServer
from tests.utils.telegram import RecordingRequest, UpdateFactory

OWNER, OFFICE = 5581001, 5581009
IS_PG = bool(PG_URL)
needs_pg_tools = pytest.mark.skipif(
    IS_PG and shutil.which("pg_dump") is None, reason="pg_dump is not on PATH")


def _config_file(path: Path, url: str, data_dir: Path) -> Path:
    path.write_text(
        f'[database]\nurl = "{url}"\n[storage]\ndata_dir = "{data_dir}"\n'
        '[telegram]\nadmin_ids = []\n', encoding="utf-8")
    return path


def _config(url: str, data_dir: Path) -> AppConfig:
    return AppConfig.model_validate({
        "database": {"url": url}, "storage": {"data_dir": str(data_dir)},
        "telegram": {"admin_ids": []}, "flood": UNLIMITED_FLOOD,
    })


async def _cli(*args: str) -> int:
    # The command line runs its own event loop, as it would in a shell.
    return await asyncio.to_thread(main, list(args))


@dataclass
class Bot:
    app: AppType
    services: Services
    request: RecordingRequest
    updates: UpdateFactory

    async def show(self, *commands: str) -> list[tuple[str, object]]:
        """What the bot sends the office for each command: texts and files."""
        office = self.updates.user(OFFICE)
        shown: list[tuple[str, object]] = []
        for command in commands:
            self.request.clear()
            await self.app.process_update(self.updates.text(office, command))
            shown += [(c.method, c.params.get("text") or c.params.get("media")
                       or c.params.get("document")) for c in self.request.calls]
        return shown


@pytest.fixture
async def running() -> AsyncIterator[list[Bot]]:
    bots: list[Bot] = []
    yield bots
    for bot in bots:
        await bot.app.shutdown()
        await bot.services.db.dispose()
    if IS_PG:
        # There is one PostgreSQL test database, and these tests empty or replace it:
        # leave it migrated for the next test.
        await db_backup.pg_drop_all(PG_URL)
        await asyncio.to_thread(upgrade, PG_URL)


async def _start(config: AppConfig, into: list[Bot]) -> Bot:
    services = build_services(config, clock=FrozenClock(DEFAULT_NOW))
    request = RecordingRequest()
    app = build_application(config, services=services, request=request, updater=False)
    await app.initialize()
    bot = Bot(app, services, request, UpdateFactory(app.bot))
    into.append(bot)
    return bot


async def _populate(bot: Bot) -> tuple[list[int], list[str]]:
    """Two tasks, three evidence files (one shared by both tasks), a kept import table."""
    async with bot.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        owner = await f.person(s, "张三", unit=edu, telegram_id=OWNER)
        office = await f.person(s, "迎检办", role=Role.ADMIN, telegram_id=OFFICE)
        lab = await f.task(s, c, unit=edu, owner=owner, title="实验室标识标牌",
                           due_at=DEFAULT_NOW + timedelta(days=5))
        library = await f.task(s, c, unit=edu, owner=owner, title="图书室借阅记录",
                               due_at=DEFAULT_NOW + timedelta(days=9))
        task_ids = [lab.id, library.id]
        kept = bot.services.config.storage.data_dir / "imports" / "0a1b2c3d4e5f60718293a4b5.xlsx"
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_bytes(b"PK\x03\x04 a breakdown table kept for confirmation")
        s.add(PendingImport(token="0a1b2c3d4e5f60718293a4b5", person_id=office.id,
                            campaign_id=c.id, file_name="任务分解表.xlsx",
                            stored_path=str(kept), created_at=DEFAULT_NOW))
    owner_user = bot.updates.user(OWNER)
    uploads = [("a", jpeg(color=(200, 0, 0)), lab.id), ("b", jpeg(color=(0, 200, 0)), lab.id),
               ("c", b"%PDF-1.4 borrowing ledger", library.id),
               ("a2", jpeg(color=(200, 0, 0)), library.id)]  # the same bytes on another task
    for file_id, data, task_id in uploads:
        bot.request.files[file_id] = data
        name = f"{file_id}.pdf" if data.startswith(b"%PDF") else f"{file_id}.jpg"
        mime = "application/pdf" if data.startswith(b"%PDF") else "image/jpeg"
        await bot.app.process_update(bot.updates.document(
            owner_user, file_id, name, mime, caption=f"#{task_id}", file_size=len(data)))
    async with bot.services.session() as s:
        hashes = list((await s.execute(select(Evidence.sha256).order_by(Evidence.id))).scalars())
    assert len(hashes) == 4 and len(set(hashes)) == 3
    return task_ids, hashes


def _views(task_ids: list[int]) -> list[str]:
    return [*(f"/task {t}" for t in task_ids), *(f"/evidence {t}" for t in task_ids)]


async def _evidence_rows(services: Services) -> list[tuple[int, str, int, str]]:
    async with services.session() as s:
        rows = (await s.execute(select(Evidence).order_by(Evidence.id))).scalars().all()
        return [(e.task_id, e.sha256, e.size, e.file_name) for e in rows]


def _store_file(config: AppConfig, sha: str) -> Path:
    return config.storage.data_dir / "evidence" / sha[:2] / sha


async def _target(tmp_path: Path, config: AppConfig) -> AppConfig:
    """Where a backup is restored: a new SQLite file, or the PostgreSQL test database
    emptied (there is only the one)."""
    if IS_PG:
        await db_backup.pg_drop_all(config.database.url)
        return _config(config.database.url, tmp_path / "restored-data")
    return _config(f"sqlite:///{tmp_path / 'restored' / 'bot.db'}", tmp_path / "restored-data")


@needs_pg_tools
async def test_round_trip_shows_the_same_tasks_files_and_hashes(
    config: AppConfig, tmp_path: Path, running: list[Bot], capsys: pytest.CaptureFixture[str]
) -> None:
    source = await _start(config, running)
    task_ids, hashes = await _populate(source)
    before = await source.show(*_views(task_ids))
    rows = await _evidence_rows(source.services)
    archive = tmp_path / "backups" / "inspectbot.tar.gz"
    source_cfg = _config_file(tmp_path / "source.toml", config.database.url,
                              config.storage.data_dir)

    assert await _cli("-c", str(source_cfg), "backup", str(archive)) == 0
    out = capsys.readouterr().out
    assert "任务 2 项，佐证记录 4 条，佐证文件 3 个，待确认导入表 1 个" in out
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["schema_revision"] == expected_head()
    assert manifest["counts"]["tasks"] == 2 and manifest["counts"]["evidence"] == 4
    assert sorted(e["sha256"] for e in manifest["evidence"]) == sorted(set(hashes))

    target = await _target(tmp_path, config)
    target_cfg = _config_file(tmp_path / "target.toml", target.database.url,
                              target.storage.data_dir)
    assert await _cli("-c", str(target_cfg), "restore", str(archive)) == 0
    assert "佐证文件 3 个（均已核对 SHA-256）" in capsys.readouterr().out

    restored = await _start(target, running)
    assert await restored.show(*_views(task_ids)) == before
    assert await _evidence_rows(restored.services) == rows
    for sha in set(hashes):
        assert sha256_of(_store_file(target, sha))[0] == sha
    async with restored.services.session() as s:
        [pending] = (await s.execute(select(PendingImport))).scalars().all()
    kept = Path(pending.stored_path)
    assert kept == target.storage.data_dir / "imports" / "0a1b2c3d4e5f60718293a4b5.xlsx"
    assert (await asyncio.to_thread(kept.read_bytes)).startswith(b"PK\x03\x04")


@needs_pg_tools
async def test_restore_refuses_a_database_with_data_unless_forced(
    config: AppConfig, tmp_path: Path, running: list[Bot], capsys: pytest.CaptureFixture[str]
) -> None:
    source = await _start(config, running)
    task_ids, _ = await _populate(source)
    cfg = _config_file(tmp_path / "c.toml", config.database.url, config.storage.data_dir)
    archive = tmp_path / "b.tar"
    assert await _cli("-c", str(cfg), "backup", str(archive)) == 0
    async with source.services.session() as s:  # a change made after the backup
        await s.execute(delete(Task).where(Task.id == task_ids[1]))

    assert await _cli("-c", str(cfg), "restore", str(archive)) == 2
    err = capsys.readouterr().err
    assert "目标数据库已有数据（" in err and "--force" in err
    async with source.services.session() as s:
        assert (await s.execute(select(Task.id))).scalars().all() == task_ids[:1]

    assert await _cli("-c", str(cfg), "restore", "--force", str(archive)) == 0
    async with source.services.session() as s:
        assert (await s.execute(select(Task.id).order_by(Task.id))).scalars().all() == task_ids


def _rewrite(archive: Path, out: Path, change: dict[str, object] | None = None,
             corrupt: str | None = None, extra: str | None = None) -> Path:
    """A copy of `archive` with its manifest changed, one member's bytes flipped, or an
    extra member added."""
    with tarfile.open(archive) as src, tarfile.open(out, "w") as dst:
        for member in src:
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "manifest.json" and change:
                data = json.dumps({**json.loads(data), **change}).encode()
            if member.name == corrupt:
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
        if extra is not None:
            info = tarfile.TarInfo(extra)
            info.size = 4
            dst.addfile(info, io.BytesIO(b"evil"))
    return out


@needs_pg_tools
async def test_refusals_change_nothing(
    config: AppConfig, tmp_path: Path, running: list[Bot], capsys: pytest.CaptureFixture[str]
) -> None:
    source = await _start(config, running)
    _, hashes = await _populate(source)
    cfg = _config_file(tmp_path / "c.toml", config.database.url, config.storage.data_dir)
    archive = tmp_path / "b.tar"
    assert await _cli("-c", str(cfg), "backup", str(archive)) == 0
    await source.services.db.dispose()
    target = await _target(tmp_path, config)
    target_cfg = _config_file(tmp_path / "t.toml", target.database.url, target.storage.data_dir)
    capsys.readouterr()

    newer = _rewrite(archive, tmp_path / "newer.tar", change={"schema_revision": "0099_future"})
    assert await _cli("-c", str(target_cfg), "restore", str(newer)) == 2
    assert "来自更新版本的程序（数据库结构 0099_future）" in capsys.readouterr().err

    damaged = _rewrite(archive, tmp_path / "damaged.tar",
                       corrupt=f"evidence/{hashes[0][:2]}/{hashes[0]}")
    assert await _cli("-c", str(target_cfg), "restore", str(damaged)) == 2
    err = capsys.readouterr().err
    assert "备份文件校验未通过" in err and hashes[0] in err

    sneaky = _rewrite(archive, tmp_path / "sneaky.tar", extra="../../outside.txt")
    assert await _cli("-c", str(target_cfg), "restore", str(sneaky)) == 2
    assert "../../outside.txt: not in the manifest" in capsys.readouterr().err
    assert not (tmp_path / "outside.txt").exists()

    assert (await db_backup.facts(target.database.url)).empty
    assert not (target.storage.data_dir / "evidence").exists()


async def test_a_backup_while_the_bot_writes_is_one_consistent_snapshot(
    config: AppConfig, tmp_path: Path, running: list[Bot]
) -> None:
    """Tasks are added while the backup runs; the copy holds a consistent prefix of them,
    and the manifest's counts are the copy's (the restore checks them)."""
    if IS_PG and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not on PATH")
    source = await _start(config, running)
    await _populate(source)
    stop = asyncio.Event()

    async def write() -> int:
        n = 0
        async with source.services.session() as s:
            c = await f.campaign(s)
            edu = await f.unit(s, "县财政局")
            campaign_id, unit_id = c.id, edu.id
        while not stop.is_set():
            async with source.services.session() as s:
                s.add(Task(campaign_id=campaign_id, key=f"w{n}", title=f"写入中 {n}",
                           unit_id=unit_id))
            n += 1
            await asyncio.sleep(0)
        return n

    writer = asyncio.create_task(write())
    await asyncio.sleep(0.2)
    report = await create_backup(config, tmp_path / "live.tar", now=DEFAULT_NOW)
    stop.set()
    written = await writer
    assert 2 < report.manifest.counts["tasks"] < 2 + written + 1

    target = await _target(tmp_path, config)
    target_cfg = _config_file(tmp_path / "t.toml", target.database.url, target.storage.data_dir)
    await source.services.db.dispose()
    assert await _cli("-c", str(target_cfg), "restore", str(report.out)) == 0
    restored = await db_backup.facts(target.database.url)
    assert restored.counts["tasks"] == report.manifest.counts["tasks"]
    check = build_services(target)
    async with check.session() as s:
        keys = (await s.execute(select(Task.key).where(Task.key.like("w%")))).scalars().all()
    await check.db.dispose()
    assert sorted(keys, key=lambda k: int(k[1:])) == [f"w{n}" for n in range(len(keys))]


@pytest.mark.skipif(not IS_PG, reason="PostgreSQL only: pg_dump and pg_restore")
async def test_postgres_without_its_tools_says_what_to_install(
    config: AppConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, running: list[Bot],
    capsys: pytest.CaptureFixture[str],
) -> None:
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    cfg = _config_file(tmp_path / "c.toml", config.database.url, config.storage.data_dir)
    assert await _cli("-c", str(cfg), "backup", str(tmp_path / "b.tar")) == 2
    err = capsys.readouterr().err
    assert "pg_dump, pg_restore" in err and "apt install postgresql-client" in err
    assert not (tmp_path / "b.tar").exists()


def _s3_config_file(path: Path, url: str, data_dir: Path, moto: MotoServer, bucket: str) -> Path:
    s3 = "".join(f'{key} = "{value}"\n' for key, value in moto.s3_section(bucket).items())
    path.write_text(
        f'[database]\nurl = "{url}"\n[storage]\ndata_dir = "{data_dir}"\nbackend = "s3"\n'
        f'[storage.s3]\n{s3}[telegram]\nadmin_ids = []\n', encoding="utf-8")
    return path


@needs_pg_tools
async def test_evidence_in_object_storage_stays_there_and_a_restore_checks_it(
    config: AppConfig, tmp_path: Path, running: list[Bot], capsys: pytest.CaptureFixture[str],
    moto: MotoServer, s3_bucket: str,
) -> None:
    """With `[storage] backend = "s3"` the archive holds the database and the kept tables,
    not a copy of the bucket; the restore then checks every referenced file is still
    there, and says which are not."""
    source = await _start(config, running)
    task_ids, hashes = await _populate(source)
    before = await source.show(*_views(task_ids))
    s3_cfg = AppConfig.model_validate({
        "database": {"url": config.database.url},
        "storage": {"data_dir": str(config.storage.data_dir), "backend": "s3",
                    "s3": moto.s3_section(s3_bucket)},
        "telegram": {"admin_ids": []}})
    bucket = s3_store(s3_cfg.storage, needed_for="the test")
    for sha in set(hashes):
        bucket.put_file(_store_file(config, sha))
    gone = hashes[0]
    gone_key = bucket.key_of(gone)
    where = f"s3://{s3_bucket}/{s3_cfg.storage.s3.prefix}".rstrip("/")
    bucket.close()
    source_cfg = _s3_config_file(tmp_path / "source.toml", config.database.url,
                                 config.storage.data_dir, moto, s3_bucket)
    archive = tmp_path / "backups" / "inspectbot.tar.gz"

    assert await _cli("-c", str(source_cfg), "backup", str(archive)) == 0
    assert f"对象存储（{where}）" in capsys.readouterr().out
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["evidence"] == [] and manifest["evidence_store"] == where
    assert not [name for name in names if name.startswith("evidence/")]

    target = await _target(tmp_path, config)
    target_cfg = _s3_config_file(tmp_path / "target.toml", target.database.url,
                                 target.storage.data_dir, moto, s3_bucket)
    assert await _cli("-c", str(target_cfg), "restore", str(archive)) == 0
    capsys.readouterr()
    restored = await _start(target, running)
    assert (await restored.show(*_views(task_ids)))[:2] == before[:2]

    moto.client().delete_object(Bucket=s3_bucket, Key=gone_key)
    for bot in running:
        await bot.app.shutdown()
    running.clear()
    assert await _cli("-c", str(target_cfg), "restore", "--force", str(archive)) == 1
    err = capsys.readouterr().err
    assert "1 个" in err and gone in err
