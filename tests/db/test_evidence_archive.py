"""The archive against a real database and store: layout, index, integrity, the CLI."""

from __future__ import annotations

import asyncio
import hashlib
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.config import S3Config
from bot.evidence.archive import build_archive
from bot.evidence.s3 import S3EvidenceStore
from bot.evidence.store import EvidenceStore, local_store
from bot.evidence.views import archive_labels
from bot.services import Services
from db.models import Evidence, EvidenceKind, EvidenceStatus
from tests.conftest import DEFAULT_NOW
from tests.utils import factories as f
from tests.utils.s3 import MotoServer


async def _seed(services: Services, store: EvidenceStore, tmp: Path) -> dict[int, bytes]:
    """Two indicators, two units, four files (one rejected); returns evidence id → bytes."""
    contents: dict[int, bytes] = {}
    async with services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        town = await f.unit(s, "城关镇/中心校")  # a slash must not become a folder
        owner = await f.person(s, "张三", unit=edu)
        a1 = await f.indicator(s, "A1", name="普及程度")
        b2 = await f.indicator(s, "B2", name="办学条件")
        tasks = [
            await f.task(s, c, unit=edu, owner=owner, title="控辍保学台账", indicator=a1),
            await f.task(s, c, unit=town, owner=owner, title="实验室: 标牌?", indicator=b2),
            await f.task(s, c, unit=edu, owner=None, title="会议记录"),
        ]
        plan = [(tasks[1], "门牌.jpg", EvidenceStatus.APPROVED),
                (tasks[0], "台账.xlsx", EvidenceStatus.PENDING),
                (tasks[2], "纪要.doc", EvidenceStatus.APPROVED),
                (tasks[0], "旧照片.jpg", EvidenceStatus.REJECTED)]
        for n, (task, name, status) in enumerate(plan):
            data = f"{name} #{n} ".encode() * (1000 + n)
            source = tmp / f"in-{n}"
            source.write_bytes(data)
            blob = store.put_file(source)
            evidence = Evidence(
                task_id=task.id, uploader_id=owner.id, kind=EvidenceKind.DOCUMENT, file_id=f"f{n}",
                file_unique_id=f"u{n}", file_name=name, mime_type="application/octet-stream",
                size=blob.size, sha256=blob.sha256, description="", chat_id=1, message_id=n,
                uploaded_at=DEFAULT_NOW + timedelta(minutes=n), status=status,
            )
            s.add(evidence)
            await s.flush()
            contents[evidence.id] = data
    return contents


def _index(archive: zipfile.ZipFile) -> tuple[tuple[object, ...], list[tuple[object, ...]]]:
    with archive.open("index.xlsx") as stream:
        rows = list(load_workbook(stream, read_only=True).active.iter_rows(values_only=True))
    return rows[0], rows[1:]


async def test_archive_layout_index_and_hashes(services: Services, tmp_path: Path) -> None:
    store = local_store(services.config.storage.data_dir)
    contents = await _seed(services, store, tmp_path)
    out = tmp_path / "archive.zip"
    seen: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        seen.append((done, total))

    stats = await build_archive(services.db, store, out, archive_labels(services.texts, "zh"),
                                services.config.zone, on_progress=progress)

    assert (stats.tasks, stats.files, stats.missing, stats.mismatched) == (3, 3, [], [])
    assert seen[-1] == (3, 3)
    assert not out.with_name("archive.zip.part").exists()
    with zipfile.ZipFile(out) as archive:
        header, rows = _index(archive)
        path, sha, check = header.index("档案内路径"), header.index("SHA-256"), header.index("校验")
        names = [str(r[path]) for r in rows]
        # Indicator order, then unit, then task; tasks without an indicator last.
        assert names == [
            "A1 普及程度/县教育局/#1 控辍保学台账/E2_台账.xlsx",
            "B2 办学条件/城关镇_中心校/#2 实验室_ 标牌_/E1_门牌.jpg",
            "未关联指标/县教育局/#3 会议记录/E3_纪要.doc",
        ]
        assert sorted(archive.namelist()) == sorted([*names, "index.xlsx"])
        for row in rows:
            data = archive.read(str(row[path]))
            assert hashlib.sha256(data).hexdigest() == row[sha] and row[check] == "一致"
        by_name = {str(r[path]): r for r in rows}
        doc = by_name["未关联指标/县教育局/#3 会议记录/E3_纪要.doc"]
        assert doc[header.index("审核结果")] == "已通过" and not doc[header.index("责任人")]
        assert archive.getinfo(names[1]).compress_type == zipfile.ZIP_STORED  # jpg: as is
        assert archive.getinfo(names[2]).compress_type == zipfile.ZIP_DEFLATED
    assert {hashlib.sha256(d).hexdigest() for i, d in contents.items() if i != 4} == {
        r[sha] for r in rows}


async def test_missing_and_altered_files_are_reported(services: Services, tmp_path: Path) -> None:
    store = local_store(services.config.storage.data_dir)
    contents = await _seed(services, store, tmp_path)
    first, second = (hashlib.sha256(contents[i]).hexdigest() for i in (1, 2))
    store.path_of(first).unlink()
    store.path_of(second).write_bytes(b"tampered")
    out = tmp_path / "a.zip"

    stats = await build_archive(services.db, store, out, archive_labels(services.texts, "en"),
                                services.config.zone)

    assert stats.missing == [1] and stats.mismatched == [2]
    with zipfile.ZipFile(out) as archive:
        header, rows = _index(archive)
        checks = {r[header.index("SHA-256")]: r[header.index("check")] for r in rows}
    assert checks[first] == "missing" and checks[second] == "mismatch"


async def test_cli_writes_the_archive(
    services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = local_store(services.config.storage.data_dir)
    await _seed(services, store, tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{services.config.database.url}"\n'
        f'[storage]\ndata_dir = "{services.config.storage.data_dir}"\n', encoding="utf-8")
    out = tmp_path / "全部.zip"

    code = await _run_cli(["-c", str(config), "archive", str(out), "--all", "--lang", "en"])

    assert code == 0
    assert "3 tasks, 4 files" in capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        header, rows = _index(archive)
    assert header[0] == "task id"
    assert sorted(str(r[header.index("decision")]) for r in rows) == [
        "approved", "approved", "pending", "rejected"]


def _bucket_store(moto: MotoServer, bucket: str, services: Services) -> S3EvidenceStore:
    return S3EvidenceStore(S3Config.model_validate(moto.s3_section(bucket)),
                           services.config.storage.data_dir / "tmp")


async def test_archive_streams_from_object_storage(
    services: Services, tmp_path: Path, moto: MotoServer, s3_bucket: str
) -> None:
    """The same archive from a bucket: every file read back, hashed, checked against its row."""
    store = _bucket_store(moto, s3_bucket, services)
    contents = await _seed(services, store, tmp_path)
    first, second = (hashlib.sha256(contents[i]).hexdigest() for i in (1, 2))
    s3 = moto.client()
    s3.delete_object(Bucket=s3_bucket, Key=store.key_of(first))
    s3.put_object(Bucket=s3_bucket, Key=store.key_of(second), Body=b"tampered")
    out = tmp_path / "bucket.zip"

    stats = await build_archive(services.db, store, out, archive_labels(services.texts, "en"),
                                services.config.zone)
    store.close()

    assert (stats.files, stats.missing, stats.mismatched) == (2, [1], [2])
    with zipfile.ZipFile(out) as archive:
        header, rows = _index(archive)
        path, sha, check = (header.index(k) for k in ("path in archive", "SHA-256", "check"))
        by_sha = {r[sha]: r for r in rows}
        assert by_sha[first][check] == "missing" and by_sha[second][check] == "mismatch"
        third = hashlib.sha256(contents[3]).hexdigest()
        assert by_sha[third][check] == "ok"
        assert archive.read(str(by_sha[third][path])) == contents[3]


async def test_cli_archives_from_the_configured_bucket(
    services: Services, tmp_path: Path, moto: MotoServer, s3_bucket: str,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = _bucket_store(moto, s3_bucket, services)
    contents = await _seed(services, store, tmp_path)
    store.close()
    section = moto.s3_section(s3_bucket)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{services.config.database.url}"\n'
        f'[storage]\ndata_dir = "{services.config.storage.data_dir}"\nbackend = "s3"\n'
        f'[storage.s3]\nendpoint_url = "{section["endpoint_url"]}"\n'
        f'bucket = "{s3_bucket}"\naddressing_style = "path"\n', encoding="utf-8")
    monkeypatch.setenv("INSPECTBOT_S3_ACCESS_KEY_ID", moto.access_key_id)
    monkeypatch.setenv("INSPECTBOT_S3_SECRET_ACCESS_KEY", moto.secret_access_key)
    out = tmp_path / "from-bucket.zip"

    code = await _run_cli(["-c", str(config), "archive", str(out), "--all", "--lang", "en"])

    assert code == 0, capsys.readouterr().err
    assert "3 tasks, 4 files" in capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        header, rows = _index(archive)
        assert {r[header.index("check")] for r in rows} == {"ok"}
        got = {archive.read(str(r[header.index("path in archive")])) for r in rows}
    assert got == set(contents.values())
    assert not (services.config.storage.data_dir / "evidence").exists()


async def _run_cli(argv: list[str]) -> int:
    # The CLI runs its own event loop; keep it off the test's loop.
    return await asyncio.to_thread(main, argv)
