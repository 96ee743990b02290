"""The S3 evidence store against a real S3 HTTP server (moto, checking every signature)."""

from __future__ import annotations

import base64
import hashlib
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.config import S3Config
from bot.evidence.s3 import S3EvidenceStore
from bot.evidence.store import StorageError, StorageUnavailable
from tests.utils.s3 import FlakyProxy, MotoServer, ResolvingTransport, free_port

MB = 1024 * 1024


def _store(moto: MotoServer, bucket: str, tmp_path: Path, **overrides: object) -> S3EvidenceStore:
    config = S3Config.model_validate(moto.s3_section(bucket, **overrides))
    # Backoff in milliseconds: the tests are about whether it retries, not how long it waits.
    return S3EvidenceStore(config, tmp_path / "scratch", backoff_base=0.01)


@pytest.fixture
def store(moto: MotoServer, s3_bucket: str, tmp_path: Path) -> Iterator[S3EvidenceStore]:
    built = _store(moto, s3_bucket, tmp_path)
    yield built
    built.close()


def _file(store: S3EvidenceStore, data: bytes, name: str = "upload") -> Path:
    path = store.scratch_dir() / name
    path.write_bytes(data)
    return path


def _object(moto: MotoServer, bucket: str, key: str) -> bytes:
    body: bytes = moto.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def test_put_get_has_size_under_the_content_addressed_key(
    store: S3EvidenceStore, moto: MotoServer, s3_bucket: str
) -> None:
    data = b"\xff\xd8 a photo of the laboratory sign " * 100
    sha = hashlib.sha256(data).hexdigest()
    assert not store.has(sha)

    source = _file(store, data)
    blob = store.put_file(source)

    assert (blob.sha256, blob.size, blob.created) == (sha, len(data), True)
    assert not source.exists()  # the store took the file over
    key = f"evidence/{sha[:2]}/{sha}"
    assert store.key_of(sha) == key
    assert _object(moto, s3_bucket, key) == data  # read by boto3, independently
    assert store.has(sha) and store.size(sha) == len(data)
    with store.open(sha) as stream:
        assert stream.read(10) == data[:10]
        assert stream.read() == data[10:]


def test_the_same_content_is_not_uploaded_again(
    moto: MotoServer, s3_bucket: str, tmp_path: Path
) -> None:
    with FlakyProxy(moto.port) as proxy:
        store = _store(moto, s3_bucket, tmp_path, endpoint_url=proxy.endpoint)
        first = store.put_file(_file(store, b"same bytes", "a"))
        second = store.put_file(_file(store, b"same bytes", "b"))
        store.close()
    assert (first.created, second.created) == (True, False)
    assert [method for method, _, _ in proxy.seen] == ["HEAD", "PUT", "HEAD"]


def test_missing_objects(store: S3EvidenceStore) -> None:
    absent = "0" * 64
    assert not store.has(absent)
    with pytest.raises(FileNotFoundError):
        store.open(absent)
    with pytest.raises(FileNotFoundError):
        store.size(absent)
    with pytest.raises(ValueError):
        store.open("../../etc/passwd")


def test_virtual_hosted_addressing(moto: MotoServer, s3_bucket: str, tmp_path: Path) -> None:
    """The bucket in the host name, as Aliyun OSS and Tencent COS require."""
    config = S3Config.model_validate(moto.s3_section(
        s3_bucket, addressing_style="virtual", endpoint_url=f"http://s3.test:{moto.port}",
        prefix="county-1/evidence"))
    store = S3EvidenceStore(config, tmp_path / "scratch", transport=ResolvingTransport(moto.port))
    store.check()
    blob = store.put_file(_file(store, b"virtual-hosted"))
    with store.open(blob.sha256) as stream:
        assert stream.read() == b"virtual-hosted"
    store.close()
    key = f"county-1/evidence/{blob.sha256[:2]}/{blob.sha256}"
    assert _object(moto, s3_bucket, key) == b"virtual-hosted"


def test_large_files_go_in_parts_with_server_side_checksums(
    moto: MotoServer, s3_bucket: str, tmp_path: Path
) -> None:
    data = os.urandom(12 * MB + 12345)
    with FlakyProxy(moto.port) as proxy:
        store = _store(moto, s3_bucket, tmp_path, endpoint_url=proxy.endpoint,
                       multipart_threshold_mb=5, part_size_mb=5, checksum=True)
        blob = store.put_file(_file(store, data))
        small = store.put_file(_file(store, b"small file, one PUT", "small"))
        store.close()
    big = proxy.seen[:6]
    assert [method for method, _, _ in big] == ["HEAD", "POST", "PUT", "PUT", "PUT", "POST"]
    queries = [parse_qs(urlsplit(path).query, keep_blank_values=True) for _, path, _ in big]
    assert queries[1] == {"uploads": [""]}
    upload_id = queries[2]["uploadId"]
    assert [q["partNumber"] for q in queries[2:5]] == [["1"], ["2"], ["3"]]
    assert all(q["uploadId"] == upload_id for q in queries[2:])
    assert _object(moto, s3_bucket, store.key_of(blob.sha256)) == data
    head = moto.client().head_object(Bucket=s3_bucket, Key=store.key_of(small.sha256),
                                     ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(small.sha256)).decode()
    assert head["Metadata"] == {"sha256": small.sha256}


def test_uploads_and_reads_stream(store: S3EvidenceStore) -> None:
    """A 20 MB file never sits in memory whole, going up or coming down."""
    data = os.urandom(20 * MB)
    source = _file(store, data)
    del data
    tracemalloc.start()
    try:
        blob = store.put_file(source)
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        with store.open(blob.sha256) as stream:
            while chunk := stream.read(1 * MB):
                digest.update(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == blob.sha256
    assert upload_peak < 5 * MB, upload_peak
    assert read_peak < 5 * MB, read_peak


def test_transient_failures_are_retried(moto: MotoServer, s3_bucket: str, tmp_path: Path) -> None:
    with FlakyProxy(moto.port) as proxy:
        store = _store(moto, s3_bucket, tmp_path, endpoint_url=proxy.endpoint, max_attempts=3)
        proxy.fail("HEAD", 1, 500)
        proxy.fail("PUT", 2, 503)
        blob = store.put_file(_file(store, b"kept despite two 503s"))
        assert [m for m, _, _ in proxy.seen] == ["HEAD", "HEAD", "PUT", "PUT", "PUT"]

        proxy.fail("PUT", 3, 503)
        with pytest.raises(StorageUnavailable, match="503 SlowDown"):
            store.put_file(_file(store, b"three 503s are too many"))
        store.close()
    assert _object(moto, s3_bucket, store.key_of(blob.sha256)) == b"kept despite two 503s"


def test_a_read_cut_half_way_resumes_where_it_stopped(
    moto: MotoServer, s3_bucket: str, tmp_path: Path
) -> None:
    data = os.urandom(3 * MB + 17)
    with FlakyProxy(moto.port) as proxy:
        store = _store(moto, s3_bucket, tmp_path, endpoint_url=proxy.endpoint)
        blob = store.put_file(_file(store, data))
        proxy.cut(1)
        with store.open(blob.sha256) as stream:
            assert stream.read() == data
        store.close()
    gets = [headers for method, _, headers in proxy.seen if method == "GET"]
    assert len(gets) == 2
    resumed = {k.lower(): v for k, v in gets[1].items()}
    assert resumed["range"].startswith("bytes=") and resumed["range"] != "bytes=0-"
    assert resumed["if-match"]


def test_a_resumed_read_survives_a_service_that_ignores_range(
    moto: MotoServer, s3_bucket: str, tmp_path: Path
) -> None:
    data = os.urandom(2 * MB + 3)
    with FlakyProxy(moto.port) as proxy:
        store = _store(moto, s3_bucket, tmp_path, endpoint_url=proxy.endpoint)
        blob = store.put_file(_file(store, data))
        proxy.cut(1)
        proxy.ignore_range = True
        with store.open(blob.sha256) as stream:
            assert stream.read() == data
        store.close()


def test_an_unreachable_service_is_reported_after_the_retries(tmp_path: Path) -> None:
    config = S3Config.model_validate({
        "endpoint_url": f"http://127.0.0.1:{free_port()}", "bucket": "evidence",
        "access_key_id": "AK", "secret_access_key": "SK", "max_attempts": 2,
        "addressing_style": "path"})
    store = S3EvidenceStore(config, tmp_path, backoff_base=0.01)
    with pytest.raises(StorageUnavailable, match="could not be reached"):
        store.has("0" * 64)


@pytest.mark.parametrize(
    ("overrides", "bucket", "says"),
    [
        ({"secret_access_key": "not-the-secret"}, None, "secret_access_key"),
        ({"access_key_id": "AKIDUNKNOWN"}, None, "access_key_id"),
        ({}, "no-such-bucket", "'no-such-bucket' does not exist"),
    ],
)
def test_mistakes_are_named(
    moto: MotoServer, s3_bucket: str, tmp_path: Path,
    overrides: dict[str, object], bucket: str | None, says: str,
) -> None:
    store = _store(moto, bucket or s3_bucket, tmp_path, **overrides)
    with pytest.raises(StorageError, match=says):
        store.check()
    with pytest.raises(StorageError, match=says):
        store.put_file(_file(store, b"refused"))


def test_wrong_bytes_under_a_key_are_replaced(
    store: S3EvidenceStore, moto: MotoServer, s3_bucket: str
) -> None:
    data = b"the real minutes of the meeting"
    sha = hashlib.sha256(data).hexdigest()
    moto.client().put_object(Bucket=s3_bucket, Key=store.key_of(sha), Body=b"something else")
    assert store.put_file(_file(store, data)).created
    assert _object(moto, s3_bucket, store.key_of(sha)) == data
