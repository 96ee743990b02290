"""Reading an object from the evidence bucket as a stream: pulled from the response as the
reader asks, resumed with a Range request where a connection dropped."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import httpx

from bot.evidence.s3_wire import _TRANSIENT_ERRORS, _skip
from bot.evidence.store import StorageUnavailable

if TYPE_CHECKING:
    from bot.evidence.s3 import S3EvidenceStore


class ObjectReader(io.RawIOBase):
    """An object's bytes as a stream, pulled from the response as the reader asks.

    A connection lost half-way is opened again at the next byte (Range, If-Match on the
    ETag so a replaced object is not spliced onto the old one).
    """

    def __init__(self, store: S3EvidenceStore, key: str, response: httpx.Response) -> None:
        super().__init__()
        self._store = store
        self._key = key
        self._response = response
        self._size = int(response.headers.get("content-length", "-1"))
        self._etag = response.headers.get("etag")
        self._position = 0
        self._chunks = response.iter_bytes()
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self._pending:
            if self._size >= 0 and self._position >= self._size:
                return 0
            chunk = self._next_chunk()
            if not chunk:
                return 0
            self._pending = memoryview(chunk)
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        self._position += count
        return count

    def _next_chunk(self) -> bytes:
        attempts = self._store.config.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                chunk = next(self._chunks, b"")
                if chunk or self._size < 0:
                    return chunk
                raise httpx.RemoteProtocolError(
                    f"the body ended at byte {self._position} of {self._size}")
            except _TRANSIENT_ERRORS as exc:
                self._response.close()
                if attempt == attempts:
                    raise StorageUnavailable(
                        f"reading {self._key} from {self._store.describe()}: the connection "
                        f"kept breaking ({exc})") from exc
                self._store._backoff(attempt, None, "reading a file", type(exc).__name__)
                response = self._store._get(self._key, start=self._position, etag=self._etag)
                if response is None:
                    raise FileNotFoundError(f"{self._key} disappeared while it was read") from exc
                self._response = response
                self._chunks = response.iter_bytes()
                if response.status_code != 206:
                    # A service that ignores Range sends it all again: drop what was read.
                    self._chunks = _skip(self._chunks, self._position)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if not self.closed:
            self._response.close()
        super().close()
