"""`inspectbot storage migrate --to s3` and `inspectbot storage verify`, against a real
database, a real local store and a real S3 server (moto, signatures checked)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.evidence.store import LocalEvidenceStore, local_store
from bot.services import Services
from db.models import Evidence, EvidenceKind
from tests.conftest import DEFAULT_NOW
from tests.utils import factories as f
from tests.utils.s3 import FlakyProxy, MotoServer

MB = 1024 * 1024


@pytest.fixture
def relay(moto: MotoServer) -> Iterator[FlakyProxy]:
    with FlakyProxy(moto.port) as proxy:
        yield proxy


async def _seed(services: Services, store: LocalEvidenceStore) -> dict[int, bytes]:
    """Five evidence rows over four contents (one photo on two tasks); id → bytes."""
    contents = [os.urandom(3000), b"%PDF-1.4 minutes " * 400, os.urandom(6 * MB + 5),
                "台账 ledger".encode() * 100]
    rows: dict[int, bytes] = {}
    async with services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        owner = await f.person(s, "张三", unit=edu)
        tasks = [await f.task(s, c, unit=edu, owner=owner, title=f"任务{n}") for n in range(2)]
        for n, (task, data) in enumerate([(tasks[0], contents[0]), (tasks[1], contents[0]),
                                          *((tasks[0], d) for d in contents[1:])]):
            source = store.scratch_dir() / f"seed-{n}"
            source.write_bytes(data)
            blob = store.put_file(source)
            evidence = Evidence(
                task_id=task.id, uploader_id=owner.id, kind=EvidenceKind.DOCUMENT,
                file_id=f"f{n}", file_unique_id=f"u{n}", file_name=f"file{n}.bin",
                mime_type="application/octet-stream", size=blob.size, sha256=blob.sha256,
                description="", chat_id=1, message_id=n, uploaded_at=DEFAULT_NOW,
            )
            s.add(evidence)
            await s.flush()
            rows[evidence.id] = data
    return rows


def _config(services: Services, tmp_path: Path, bucket: str, endpoint: str,
            backend: str = "local", extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{services.config.database.url}"\n'
        f'[storage]\ndata_dir = "{services.config.storage.data_dir}"\nbackend = "{backend}"\n'
        f'[storage.s3]\nendpoint_url = "{endpoint}"\nbucket = "{bucket}"\n'
        f'addressing_style = "path"\nmultipart_threshold_mb = 5\npart_size_mb = 5\n{extra}',
        encoding="utf-8")
    return path


@pytest.fixture
def credentials(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSPECTBOT_S3_ACCESS_KEY_ID", moto.access_key_id)
    monkeypatch.setenv("INSPECTBOT_S3_SECRET_ACCESS_KEY", moto.secret_access_key)


async def _cli(*argv: str) -> int:
    # The command runs its own event loop; keep it off the test's loop.
    return await asyncio.to_thread(main, list(argv))


def _key(sha: str) -> str:
    return f"evidence/{sha[:2]}/{sha}"


@pytest.mark.usefixtures("credentials")
async def test_migrate_copies_verifies_and_resumes(
    services: Services, tmp_path: Path, moto: MotoServer, s3_bucket: str, relay: FlakyProxy,
    capsys: pytest.CaptureFixture[str],
) -> None:
    local = local_store(services.config.storage.data_dir)
    rows = await _seed(services, local)
    distinct = {hashlib.sha256(d).hexdigest(): d for d in rows.values()}
    total = sum(len(d) for d in distinct.values())
    config = _config(services, tmp_path, s3_bucket, relay.endpoint)

    assert await _cli("-c", str(config), "storage", "migrate", "--to", "s3") == 0
    out = capsys.readouterr().out
    assert f"copied: 4 files, {total / MB:.1f} MB ({total:,} bytes)" in out
    assert 'backend = "s3"' in out
    bucket = moto.client()
    for sha, data in distinct.items():
        assert bucket.get_object(Bucket=s3_bucket, Key=_key(sha))["Body"].read() == data
        assert local.path_of(sha).read_bytes() == data  # the local copy stays
    puts = [path for method, path, _ in relay.seen if method == "PUT"]
    assert len(puts) == 3 + 2  # three single PUTs, the 6 MB file in two parts
    assert len([m for m, _, _ in relay.seen if m == "GET"]) == 4  # each read back

    # Interrupted or damaged since: one object gone, one altered in the bucket.
    gone, altered = (hashlib.sha256(rows[i]).hexdigest() for i in (1, 3))  # single PUTs
    bucket.delete_object(Bucket=s3_bucket, Key=_key(gone))
    bucket.put_object(Bucket=s3_bucket, Key=_key(altered), Body=b"not the evidence")
    relay.seen.clear()

    assert await _cli("-c", str(config), "storage", "migrate", "--to", "s3") == 0
    out = capsys.readouterr().out
    assert "copied: 1 files" in out
    assert "already there: 2 files" in out
    assert f"replaced wrong bytes: 1\n    {altered}" in out
    assert len([m for m, _, _ in relay.seen if m == "PUT"]) == 2  # only what was wrong
    for sha in (gone, altered):
        assert bucket.get_object(Bucket=s3_bucket, Key=_key(sha))["Body"].read() == distinct[sha]


@pytest.mark.usefixtures("credentials")
async def test_a_damaged_local_file_is_reported_not_copied(
    services: Services, tmp_path: Path, moto: MotoServer, s3_bucket: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    local = local_store(services.config.storage.data_dir)
    rows = await _seed(services, local)
    damaged = hashlib.sha256(next(iter(rows.values()))).hexdigest()
    local.path_of(damaged).write_bytes(b"bit rot")
    config = _config(services, tmp_path, s3_bucket, moto.endpoint)

    assert await _cli("-c", str(config), "storage", "migrate", "--to", "s3", "--jobs", "1") == 1
    captured = capsys.readouterr()
    assert "copied: 3 files" in captured.out
    assert f"local file damaged, not copied: 1\n    {damaged}" in captured.err
    assert "run again" in captured.err
    listed = moto.client().list_objects_v2(Bucket=s3_bucket)["Contents"]
    assert _key(damaged) not in {o["Key"] for o in listed} and len(listed) == 3


@pytest.mark.usefixtures("credentials")
async def test_verify_finds_missing_and_altered_files(
    services: Services, tmp_path: Path, moto: MotoServer, s3_bucket: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    local = local_store(services.config.storage.data_dir)
    rows = await _seed(services, local)
    config = _config(services, tmp_path, s3_bucket, moto.endpoint, backend="s3")
    assert await _cli("-c", str(config), "storage", "migrate", "--to", "s3") == 0
    capsys.readouterr()

    assert await _cli("-c", str(config), "storage", "verify") == 0
    assert "checked (SHA-256): 5 evidence rows, 4 files" in capsys.readouterr().out

    shared = hashlib.sha256(rows[1]).hexdigest()  # rows 1 and 2 hold the same photo
    pdf = hashlib.sha256(rows[3]).hexdigest()
    bucket = moto.client()
    bucket.delete_object(Bucket=s3_bucket, Key=_key(shared))
    bucket.put_object(Bucket=s3_bucket, Key=_key(pdf), Body=rows[3][:-1] + b"X")

    assert await _cli("-c", str(config), "storage", "verify") == 1
    err = capsys.readouterr().err
    assert "missing: 2: E1, E2" in err and "altered: 1: E3" in err
    # Quick: presence and size only, so the same-size alteration goes unnoticed.
    assert await _cli("-c", str(config), "storage", "verify", "--quick") == 1
    err = capsys.readouterr().err
    assert "missing: 2: E1, E2" in err and "altered" not in err
    # The local store, untouched, is whole.
    assert await _cli("-c", str(config), "storage", "verify", "--store", "local") == 0


async def test_migrate_without_a_bucket_says_what_is_missing(
    services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("INSPECTBOT_S3_ACCESS_KEY_ID", "INSPECTBOT_S3_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    config = _config(services, tmp_path, "", "http://127.0.0.1:9")

    assert await _cli("-c", str(config), "storage", "migrate", "--to", "s3") == 2
    err = capsys.readouterr().err
    assert "[storage.s3] bucket: required to migrate to s3" in err
    assert "INSPECTBOT_S3_SECRET_ACCESS_KEY" in err
