"""The S3 wire for the evidence store: error bodies, retry classes, streamed request and
response bodies, part hashing. Kept apart from `bot.evidence.s3`, which holds the
operations themselves."""

from __future__ import annotations

import base64
import hashlib
import logging
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.evidence.store import (
    CHUNK,
    StorageError,
)

log = logging.getLogger(__name__)

MB = 1024 * 1024
_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
_TRANSIENT_CODES = frozenset({"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable",
                              "OperationAborted"})
_TRANSIENT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
BACKOFF_CAP = 10.0
RETRY_AFTER_CAP = 30.0
META_SHA256 = "x-amz-meta-sha256"


class ContentMismatch(StorageError):
    """Bytes that do not hash to what they should: refused, never stored under that key."""


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    # What the bot recorded when it uploaded the object (x-amz-meta-sha256), if anything.
    sha256: str | None


@dataclass(frozen=True)
class _Failure:
    """An error answer from the service, as its XML body (or a HEAD's status) tells it."""

    status: int
    code: str
    message: str
    region: str = ""
    endpoint: str = ""

    @property
    def transient(self) -> bool:
        return self.status in _TRANSIENT_STATUS or self.code in _TRANSIENT_CODES


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _xml_fields(body: bytes) -> dict[str, str]:
    """The leaf elements of a small S3 XML document, by local name (namespaces dropped)."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return {}
    fields = {"": _local(root.tag)}
    for element in root.iter():
        if len(element) == 0 and element.text is not None:
            fields.setdefault(_local(element.tag), element.text.strip())
    return fields


def _failure(response: httpx.Response, body: bytes) -> _Failure:
    fields = _xml_fields(body) if body else {}
    code = fields.get("Code", "")
    if not code:
        # A HEAD's answer has no body to say why.
        code = {301: "PermanentRedirect", 403: "Forbidden", 404: "NotFound"}.get(
            response.status_code, "")
    return _Failure(
        response.status_code, code, fields.get("Message", ""),
        region=fields.get("Region", "") or response.headers.get("x-amz-bucket-region", ""),
        endpoint=fields.get("Endpoint", ""),
    )


class _FileBody:
    """A byte range of a file as a request body: 1 MB at a time, hashed on the way.

    Iterated once per attempt, each time from the start of the range.
    """

    def __init__(self, path: Path, offset: int, length: int) -> None:
        self.path = path
        self.offset = offset
        self.length = length
        self.sent_sha256 = ""

    def __iter__(self) -> Iterator[bytes]:
        digest = hashlib.sha256()
        left = self.length
        with self.path.open("rb") as stream:
            stream.seek(self.offset)
            while left > 0:
                chunk = stream.read(min(CHUNK, left))
                if not chunk:
                    break  # the file shrank: the hash below will not match
                digest.update(chunk)
                left -= len(chunk)
                yield chunk
        self.sent_sha256 = digest.hexdigest()


@dataclass(frozen=True)
class _Part:
    offset: int
    length: int
    sha256: str


def hash_with_parts(path: Path, part_size: int) -> tuple[str, int, list[_Part]]:
    """The file's SHA-256 and size, and each part's (one read of the file)."""
    whole = hashlib.sha256()
    parts: list[_Part] = []
    part = hashlib.sha256()
    offset = length = 0
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            while chunk:
                room = part_size - length
                piece, chunk = chunk[:room], chunk[room:]
                whole.update(piece)
                part.update(piece)
                length += len(piece)
                if length == part_size:
                    parts.append(_Part(offset, length, part.hexdigest()))
                    offset, length, part = offset + length, 0, hashlib.sha256()
    if length or not parts:
        parts.append(_Part(offset, length, part.hexdigest()))
    return whole.hexdigest(), offset + length, parts


def _b64(sha_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(sha_hex)).decode()


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _skip(chunks: Iterator[bytes], count: int) -> Iterator[bytes]:
    for chunk in chunks:
        if count >= len(chunk):
            count -= len(chunk)
            continue
        yield chunk[count:]
        count = 0
