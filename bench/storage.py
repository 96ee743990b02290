"""Benchmark: evidence in object storage against the local store, in the same run.

    .venv/bin/python -m bench.storage [--files 1000] [--file-kb 200] [--upload-mb 20]

A real S3 HTTP server (moto in server mode, `python -m moto.server`) runs in its own
process on 127.0.0.1, so this process's memory is the bot's alone.

migrate  `--files` random files (default 1,000 × 200 KB) with their Evidence rows in a
         local store, copied into the bucket by `copy_to_bucket` (the code behind
         `inspectbot storage migrate --to s3`: hash, send, read back, hash again).
archive  The inspectors' ZIP of those files built from the local store, then from the
         bucket; the ratio of the two times. Peak resident memory (VmHWM, reset right
         before) while building, against the size just before. Baseline for the bucket:
         the same objects fetched with plain unsigned GETs, one after another (the bucket
         is public-read for that), which is what the server alone allows.
upload   One `--upload-mb` file put into the bucket: peak resident memory while uploading
         against the size just before (and the peak of Python's allocations, tracemalloc),
         and the same for reading it back. For scale, the same figures for reading the
         file whole into memory once, in the same process.

moto keeps objects in memory and answers from one Python process, so the bucket side is
slower than a real service on a network; the ratio shows what the store adds on top of
the server it talks to, not what a county's cloud would do. Temporary files are deleted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import httpx

from bench.evidence import ZONE, _reset_peak, _seed_archive, _status_kb
from bot.config import S3Config
from bot.evidence.archive import build_archive
from bot.evidence.s3 import S3EvidenceStore
from bot.evidence.store import CHUNK, EvidenceStore, local_store, sha256_of
from bot.evidence.transfer import copy_to_bucket
from bot.evidence.views import archive_labels
from bot.texts import Texts
from db.migrate import upgrade
from db.session import Database

MB = 1024 * 1024
KEY, SECRET = "bench-key", "bench-secret"


@contextlib.contextmanager
def moto_server(log: Path) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("moto did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _bucket(endpoint: str, root: Path) -> S3EvidenceStore:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=KEY, aws_secret_access_key=SECRET)
    # Readable without a signature, for the baseline's plain GETs.
    client.create_bucket(Bucket="evidence", ACL="public-read")
    config = S3Config.model_validate({
        "endpoint_url": endpoint, "bucket": "evidence", "addressing_style": "path",
        "access_key_id": KEY, "secret_access_key": SECRET})
    return S3EvidenceStore(config, root / "scratch")


async def _archive(url: str, store: EvidenceStore, out: Path, files: int) -> tuple[float, int]:
    """Seconds to build, and the peak resident growth in KB while building."""
    db = Database(url)
    labels = archive_labels(Texts.load(), "zh")
    before = _status_kb("VmRSS")
    _reset_peak()
    start = time.perf_counter()
    stats = await build_archive(db, store, out, labels, ZONE)
    elapsed = time.perf_counter() - start
    grown = _status_kb("VmHWM") - before
    await db.dispose()
    assert stats.files == files and not stats.missing and not stats.mismatched, stats
    await asyncio.to_thread(out.unlink)
    return elapsed, grown


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _plain_gets(endpoint: str, keys: list[str]) -> None:
    """What the server alone allows: each object fetched as simply as HTTP can."""
    with httpx.Client() as client:
        for key in keys:
            with client.stream("GET", f"{endpoint}/evidence/{key}") as response:
                response.raise_for_status()
                for _ in response.iter_bytes():
                    pass


def _write_random(path: Path, size: int) -> None:
    # In pieces: a 20 MB bytes object here would be counted in the baseline.
    with path.open("wb") as out:
        for _ in range(size // MB):
            out.write(os.urandom(MB))
        out.write(os.urandom(size % MB))


def _peak_growth_kb(action: Callable[[], object]) -> tuple[int, int]:
    """Peak resident growth, and the peak of Python's own allocations, in KB."""
    before = _status_kb("VmRSS")
    _reset_peak()
    tracemalloc.start()
    try:
        action()
        _, traced = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return _status_kb("VmHWM") - before, traced // 1024


def bench(files: int, file_kb: int, upload_mb: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root / 'bot.db'}"
        upgrade(url)
        written = _seed_archive(url, root / "data", files, file_kb)
        local = local_store(root / "data")
        print(f"seed: {files} files, {written / 1e6:.0f} MB in the local store")
        with moto_server(root / "moto.log") as endpoint:
            bucket = _bucket(endpoint, root)

            start = time.perf_counter()
            report = copy_to_bucket(local, bucket, jobs=4)
            copied = time.perf_counter() - start
            assert report.ok and report.copied == files, report
            print(f"migrate: {report.copied} files, {report.copied_bytes / 1e6:.0f} MB copied and "
                  f"read back in {copied:.1f} s ({report.copied_bytes / 1e6 / copied:.0f} MB/s, "
                  f"{files / copied:.0f} files/s, 4 at once)")

            keys = [bucket.key_of(sha) for sha, _ in local.stored()]
            out = root / "archive.zip"
            gets_s = _timed(lambda: _plain_gets(endpoint, keys))
            local_s, local_kb = asyncio.run(_archive(url, local, out, files))
            s3_s, s3_kb = asyncio.run(_archive(url, bucket, out, files))
            # Before and after, the faster: the server warms up and the machine is shared.
            gets_s = min(gets_s, _timed(lambda: _plain_gets(endpoint, keys)))
            print(f"archive: from the local store {local_s:.1f} s "
                  f"({written / 1e6 / local_s:.0f} MB/s, +{local_kb / 1024:.0f} MB resident); "
                  f"from the bucket {s3_s:.1f} s ({written / 1e6 / s3_s:.0f} MB/s, "
                  f"+{s3_kb / 1024:.0f} MB resident); ratio {s3_s / local_s:.2f}")
            print(f"archive baseline: the same objects fetched by plain unsigned GETs, one "
                  f"after another, bodies read and dropped (the faster of a run before and "
                  f"one after): {gets_s:.1f} s; from the bucket / baseline {s3_s / gets_s:.2f}")

            big = root / "big.bin"
            _write_random(big, upload_mb * MB)
            sha, _ = sha256_of(big)
            whole_kb, whole_traced = _peak_growth_kb(lambda: len(big.read_bytes()))
            scratch = bucket.scratch_dir() / "upload"
            os.link(big, scratch)  # put_file takes its source away
            start = time.perf_counter()
            up_kb, up_traced = _peak_growth_kb(lambda: bucket.put_file(scratch))
            up_s = time.perf_counter() - start

            def read_back() -> None:
                digest = hashlib.sha256()
                with bucket.open(sha) as stream:
                    while chunk := stream.read(CHUNK):
                        digest.update(chunk)
                assert digest.hexdigest() == sha

            down_kb, down_traced = _peak_growth_kb(read_back)
            bucket.close()
            print(f"upload: {upload_mb} MB file in {up_s:.1f} s; peak growth (resident / "
                  f"Python allocations): uploading +{up_kb / 1024:.1f} / {up_traced / 1024:.1f} MB, "
                  f"reading back +{down_kb / 1024:.1f} / {down_traced / 1024:.1f} MB; "
                  f"for scale, reading the file whole once +{whole_kb / 1024:.1f} / "
                  f"{whole_traced / 1024:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--file-kb", type=int, default=200)
    parser.add_argument("--upload-mb", type=int, default=20)
    args = parser.parse_args()
    bench(args.files, args.file_kb, args.upload_mb)


if __name__ == "__main__":
    main()
