"""Evidence in an S3-compatible bucket, behind the same interface as the local directory.

The client is a small one of our own over httpx (already a dependency) rather than boto3:
the bot needs five operations, and it must send exactly the headers that AWS, MinIO,
Aliyun OSS, Tencent COS and Huawei OBS all accept. boto3 since 1.36 adds CRC checksums
and `aws-chunked` bodies by default, which OSS, OBS and older MinIO refuse, and it hides
the bytes on the wire from the tests. Here every request is signed (`bot.evidence.sigv4`)
and sent with a known length; nothing is ever chunked.

- Keys are content addressed, the local layout under a prefix: `<prefix><sha[:2]>/<sha>`.
- An upload streams from the downloaded file: the SHA-256 is read first (it names the
  key), a HEAD skips content already stored, and the body goes out in 1 MB pieces whose
  hash is taken again on the way and compared. With `sign_payload` the hash is also in
  the signature, so the service itself refuses bytes that changed in transit. Files above
  `multipart_threshold_mb` go in parts, each retried on its own.
- A read streams: the archive pulls 1 MB at a time from the response, and a connection
  dropped half-way resumes with a Range request at the byte it stopped.
- Transient failures (network, timeouts, 429, 5xx, SlowDown) are retried with jittered
  exponential backoff; anything else becomes a StorageError that names the setting to
  check.
"""

from __future__ import annotations

import hashlib
import io
import logging
import random
import ssl
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import httpx

from bot.config import S3Config
from bot.evidence import sigv4
from bot.evidence.s3_reader import ObjectReader
from bot.evidence.s3_wire import (
    _TRANSIENT_ERRORS,
    BACKOFF_CAP,
    MB,
    META_SHA256,
    RETRY_AFTER_CAP,
    ContentMismatch,
    ObjectInfo,
    _b64,
    _Failure,
    _failure,
    _FileBody,
    _Part,
    _xml_fields,
    _xml_text,
    hash_with_parts,
)
from bot.evidence.store import (
    CHUNK,
    StorageError,
    StorageUnavailable,
    StoredBlob,
    sha256_of,
    valid_sha,
)

log = logging.getLogger(__name__)

class S3EvidenceStore:
    """`<prefix><sha[:2]>/<sha>` in one bucket. Thread-safe: one connection pool for all."""

    def __init__(
        self,
        config: S3Config,
        scratch: Path,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base: float = 0.5,
    ) -> None:
        self.config = config
        self._scratch = scratch
        self._sleep = sleep
        self._backoff_base = backoff_base
        self._credentials = sigv4.Credentials(
            config.access_key_id, config.secret_access_key.get_secret_value(),
            config.session_token.get_secret_value(),
        )
        endpoint = httpx.URL(config.endpoint)
        if config.addressing_style == "virtual":
            self._base = endpoint.copy_with(host=f"{config.bucket}.{endpoint.host}")
            self._bucket_path = "/"
        else:
            self._base = endpoint
            self._bucket_path = f"/{config.bucket}/"
        verify: ssl.SSLContext | bool = True
        if config.ca_file:
            verify = ssl.create_default_context(cafile=config.ca_file)
        timeout = config.timeout_seconds
        self._client = httpx.Client(
            transport=transport, verify=verify, follow_redirects=False,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"user-agent": "inspectbot"},
        )
        self.part_size = config.part_size_mb * MB
        self.multipart_threshold = config.multipart_threshold_mb * MB

    # -- the EvidenceStore interface -------------------------------------------------------

    def key_of(self, sha256: str) -> str:
        sha = valid_sha(sha256)
        return f"{self.config.prefix}{sha[:2]}/{sha}"

    def scratch_dir(self) -> Path:
        self._scratch.mkdir(parents=True, exist_ok=True)
        return self._scratch

    def put_file(self, source: Path) -> StoredBlob:
        sha, size, parts = self.fingerprint(source)
        try:
            created = self.upload(source, sha, size, parts=parts)
        finally:
            source.unlink(missing_ok=True)
        return StoredBlob(sha, size, created=created)

    def open(self, sha256: str) -> BinaryIO:
        key = self.key_of(sha256)
        response = self._get(key)
        if response is None:
            raise FileNotFoundError(f"{self.describe()}: no object {key}")
        return io.BufferedReader(ObjectReader(self, key, response), CHUNK)

    def has(self, sha256: str) -> bool:
        return self.info(sha256) is not None

    def size(self, sha256: str) -> int:
        info = self.info(sha256)
        if info is None:
            raise FileNotFoundError(f"{self.describe()}: no object {self.key_of(sha256)}")
        return info.size

    def check(self) -> None:
        response = self._exchange("HEAD", "", what="checking the bucket", allow_missing=True)
        if response is None:
            raise StorageError(f"bucket {self.config.bucket!r} does not exist at "
                               f"{self.config.endpoint} ([storage.s3] bucket, endpoint_url)")

    def describe(self) -> str:
        return (f"bucket {self.config.bucket} at {self.config.endpoint} "
                f"(prefix {self.config.prefix or '(none)'})")

    def close(self) -> None:
        self._client.close()

    # -- beyond the interface: used by put_file and the storage commands --------------------

    def fingerprint(self, path: Path) -> tuple[str, int, list[_Part]]:
        """SHA-256 and size, and the parts' hashes when it will go in parts (one read)."""
        if path.stat().st_size > self.multipart_threshold:
            return hash_with_parts(path, self.part_size)
        sha, size = sha256_of(path)
        return sha, size, []

    def info(self, sha256: str) -> ObjectInfo | None:
        response = self._exchange("HEAD", self.key_of(sha256), what="looking up an object",
                                  allow_missing=True)
        if response is None:
            return None
        return ObjectInfo(int(response.headers.get("content-length", "0")),
                          response.headers.get(META_SHA256))

    def upload(self, path: Path, sha: str, size: int, *, parts: Sequence[_Part] = (),
               replace: bool = False) -> bool:
        """Store `path` (whose SHA-256 is `sha`) unless it is there already; True if sent.

        The file stays where it is. `replace` sends it even when an object of the right
        size exists (one whose bytes were found wrong).
        """
        key = self.key_of(sha)
        existing = None if replace else self._exchange(
            "HEAD", key, what="looking up an object", allow_missing=True)
        if existing is not None:
            stored = int(existing.headers.get("content-length", "-1"))
            recorded = existing.headers.get(META_SHA256, sha)
            if stored == size and recorded == sha:
                return False
            log.warning("object storage: %s holds %d bytes, not the %d of its content; "
                        "replacing it", key, stored, size)
        if size > self.multipart_threshold:
            self._put_in_parts(path, key, sha, size,
                               list(parts) or hash_with_parts(path, self.part_size)[2])
        else:
            self._put_whole(path, key, sha, size)
        return True

    # -- requests ---------------------------------------------------------------------------

    def _put_whole(self, path: Path, key: str, sha: str, size: int) -> None:
        body = _FileBody(path, 0, size)
        headers = {"content-type": "application/octet-stream", META_SHA256: sha}
        if self.config.checksum:
            headers |= {"x-amz-checksum-sha256": _b64(sha),
                        "x-amz-sdk-checksum-algorithm": "SHA256"}
        self._send("PUT", key, headers=headers, body=body, payload_hash=sha,
                   what="uploading a file")
        if body.sent_sha256 != sha:
            self._delete_quietly(key)
            raise ContentMismatch(f"{path.name} changed while it was uploaded "
                                  f"(SHA-256 {body.sent_sha256} instead of {sha}); not stored")

    def _put_in_parts(self, path: Path, key: str, sha: str, size: int,
                      parts: Sequence[_Part]) -> None:
        headers = {"content-type": "application/octet-stream", META_SHA256: sha}
        if self.config.checksum:
            headers["x-amz-checksum-algorithm"] = "SHA256"
        started = self._send("POST", key, params=[("uploads", "")], headers=headers,
                             what="starting a multipart upload")
        upload_id = _xml_fields(started.content).get("UploadId", "")
        if not upload_id:
            raise StorageError(f"{self.describe()}: the answer to a multipart upload named "
                               "no UploadId")
        try:
            etags = [self._put_part(path, key, upload_id, number, part)
                     for number, part in enumerate(parts, start=1)]
            self._complete(key, upload_id, parts, etags)
        except BaseException:
            self._send_quietly("DELETE", key, params=[("uploadId", upload_id)])
            raise

    def _put_part(self, path: Path, key: str, upload_id: str, number: int, part: _Part) -> str:
        body = _FileBody(path, part.offset, part.length)
        headers = {}
        if self.config.checksum:
            headers["x-amz-checksum-sha256"] = _b64(part.sha256)
        response = self._send(
            "PUT", key, params=[("partNumber", str(number)), ("uploadId", upload_id)],
            headers=headers, body=body, payload_hash=part.sha256,
            what=f"uploading part {number}",
        )
        if body.sent_sha256 != part.sha256:
            raise ContentMismatch(f"{path.name} changed while part {number} was uploaded; "
                                  "not stored")
        etag = str(response.headers.get("etag", ""))
        if not etag:
            raise StorageError(f"{self.describe()}: part {number} was accepted without an ETag")
        return etag

    def _complete(self, key: str, upload_id: str, parts: Sequence[_Part],
                  etags: Sequence[str]) -> None:
        items = []
        for number, (part, etag) in enumerate(zip(parts, etags, strict=True), start=1):
            checksum = (f"<ChecksumSHA256>{_b64(part.sha256)}</ChecksumSHA256>"
                        if self.config.checksum else "")
            items.append(f"<Part><PartNumber>{number}</PartNumber>"
                         f"<ETag>{_xml_text(etag)}</ETag>{checksum}</Part>")
        body = ("<CompleteMultipartUpload>" + "".join(items)
                + "</CompleteMultipartUpload>").encode()
        for attempt in range(1, self.config.max_attempts + 1):
            response = self._send(
                "POST", key, params=[("uploadId", upload_id)],
                headers={"content-type": "application/xml"}, body=body,
                payload_hash=hashlib.sha256(body).hexdigest(),
                what="completing a multipart upload",
            )
            # S3 may answer 200 and still report an error in the body.
            fields = _xml_fields(response.content)
            if fields.get("") != "Error":
                return
            failure = _Failure(200, fields.get("Code", ""), fields.get("Message", ""))
            if not failure.transient or attempt == self.config.max_attempts:
                raise self._error(failure, "completing a multipart upload", sent_body=True)
            self._backoff(attempt, None, "completing a multipart upload", failure.code)

    def _get(self, key: str, *, start: int = 0, etag: str | None = None) -> httpx.Response | None:
        headers = {"accept-encoding": "identity"}
        if start:
            headers["range"] = f"bytes={start}-"
        if etag:
            headers["if-match"] = etag
        return self._exchange("GET", key, headers=headers, stream=True, allow_missing=True,
                              what="reading a file")

    def _delete_quietly(self, key: str) -> None:
        self._send_quietly("DELETE", key)

    def _send_quietly(self, method: str, key: str,
                      params: Sequence[tuple[str, str]] = ()) -> None:
        try:
            self._send(method, key, params=params, what="cleaning up", attempts=1,
                       ok=(200, 204))
        except (StorageError, OSError) as exc:
            log.warning("object storage: could not clean up %s: %s", key, exc)

    def _send(
        self,
        method: str,
        key: str,
        *,
        what: str,
        params: Sequence[tuple[str, str]] = (),
        headers: dict[str, str] | None = None,
        body: _FileBody | bytes | None = None,
        payload_hash: str = sigv4.EMPTY_SHA256,
        ok: Sequence[int] = (200, 206),
        attempts: int | None = None,
    ) -> httpx.Response:
        """One signed request, retried while the failure is transient; a 404 is an error."""
        response = self._exchange(
            method, key, what=what, allow_missing=False, params=params, headers=headers,
            body=body, payload_hash=payload_hash, ok=ok, attempts=attempts,
        )
        assert response is not None
        return response

    def _exchange(
        self,
        method: str,
        key: str,
        *,
        what: str,
        allow_missing: bool,
        params: Sequence[tuple[str, str]] = (),
        headers: dict[str, str] | None = None,
        body: _FileBody | bytes | None = None,
        payload_hash: str = sigv4.EMPTY_SHA256,
        stream: bool = False,
        ok: Sequence[int] = (200, 206),
        attempts: int | None = None,
    ) -> httpx.Response | None:
        """One signed request, retried while the failure is transient.

        Returns the response (still open when `stream`), or None when the object is not
        there and `allow_missing`. A missing bucket is always an error.
        """
        tries = attempts or self.config.max_attempts
        # The bucket itself (HEAD bucket) is "/bucket" in path style, not "/bucket/".
        path = self._bucket_path + key if key or len(self._bucket_path) == 1 \
            else self._bucket_path.rstrip("/")
        query = "?" + sigv4.canonical_query(params) if params else ""
        url = self._base.copy_with(raw_path=(path + query).encode())
        content_hash = payload_hash if self.config.sign_payload else sigv4.UNSIGNED_PAYLOAD
        sent = dict(headers or {})
        if isinstance(body, _FileBody):
            # Always a known length: S3 refuses a chunked body (501), and so do its clones.
            sent["content-length"] = str(body.length)
        for attempt in range(1, tries + 1):
            request = self._client.build_request(
                method, url, headers=sent,
                content=iter(body) if isinstance(body, _FileBody) else body,
            )
            request.headers.update(sigv4.sign(
                method=method, path=path, params=params, headers=dict(request.headers),
                payload_hash=content_hash, credentials=self._credentials,
                region=self.config.region, now=datetime.now(UTC),
            ))
            try:
                response = self._client.send(request, stream=stream)
            except _TRANSIENT_ERRORS as exc:
                if attempt == tries:
                    raise StorageUnavailable(
                        f"{what}: {self.config.endpoint} could not be reached "
                        f"({tries} attempts; {type(exc).__name__}: {exc})") from exc
                self._backoff(attempt, None, what, type(exc).__name__)
                continue
            if response.status_code in ok:
                return response
            error_body = response.read() if method != "HEAD" else b""
            response.close()
            failure = _failure(response, error_body)
            if response.status_code == 404 and allow_missing and failure.code != "NoSuchBucket":
                return None
            if failure.transient and attempt < tries:
                self._backoff(attempt, response.headers.get("retry-after"), what,
                              failure.code or str(failure.status))
                continue
            raise self._error(failure, what, sent_body=body is not None)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _backoff(self, attempt: int, retry_after: str | None, what: str, why: str) -> None:
        delay = min(BACKOFF_CAP, self._backoff_base * 2 ** (attempt - 1))
        delay *= random.uniform(0.5, 1.0)
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), RETRY_AFTER_CAP))
        log.warning("object storage: %s failed (%s); attempt %d of %d again in %.1f s",
                    what, why, attempt + 1, self.config.max_attempts, delay)
        self._sleep(delay)

    def _error(self, failure: _Failure, what: str, *, sent_body: bool) -> StorageError:
        """A message that says which setting to look at, not just what the service said."""
        c = self.config
        said = f"{failure.status} {failure.code}".strip() + (
            f": {failure.message}" if failure.message else "")
        hints = {
            "NoSuchBucket": f"bucket {c.bucket!r} does not exist at {c.endpoint} "
                            "([storage.s3] bucket, endpoint_url)",
            "InvalidAccessKeyId": "the service does not know this access key "
                                  "([storage.s3] access_key_id)",
            "SignatureDoesNotMatch": "the signature was refused: check [storage.s3] "
                                     "secret_access_key and region",
            "AccessDenied": f"access denied: the key needs s3:GetObject, s3:PutObject and "
                            f"s3:ListBucket on bucket {c.bucket!r}",
            "Forbidden": "refused: check [storage.s3] access_key_id and secret_access_key, "
                         f"and that the key may s3:GetObject, s3:PutObject and s3:ListBucket "
                         f"on bucket {c.bucket!r}",
            "RequestTimeTooSkewed": "this machine's clock is more than 15 minutes off; "
                                    "synchronise it (NTP)",
            "AuthorizationHeaderMalformed": (
                f"the service expects region {failure.region!r}: set [storage.s3] region"
                if failure.region else "check [storage.s3] region"),
            "PermanentRedirect": (
                f"the bucket is served at {failure.endpoint or failure.region or 'another address'}: "
                "check [storage.s3] endpoint_url, region and addressing_style"),
            "XAmzContentSHA256Mismatch": "the service received bytes whose SHA-256 differs "
                                         "from the file's; nothing was stored",
            "BadDigest": "the service received bytes whose checksum differs from the file's; "
                         "nothing was stored",
        }
        hint = hints.get(failure.code, "")
        if not hint and sent_body and failure.status in (400, 501) and c.checksum:
            hint = "if this service does not take x-amz-checksum-sha256, set [storage.s3] checksum = false"
        if not hint and sent_body and failure.status in (400, 501) and c.sign_payload:
            hint = "if this service refuses signed payloads, set [storage.s3] sign_payload = false"
        kind = ContentMismatch if failure.code in ("XAmzContentSHA256Mismatch", "BadDigest") \
            else StorageUnavailable if failure.transient else StorageError
        return kind(f"{what} in {self.describe()}: {said}" + (f" — {hint}" if hint else ""))
