"""Where evidence bytes live: content-addressed by SHA-256 behind a small interface.

The database keeps only the hash. Two stores implement `EvidenceStore`: the local
directory here and an S3-compatible bucket (`bot.evidence.s3`); `[storage] backend`
chooses (`bot.evidence.backends`). Every method is blocking I/O, so async callers run
them in a worker thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 1024 * 1024
_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    # False when identical bytes were already stored (nothing new was written).
    created: bool


class StorageError(Exception):
    """The store cannot do what was asked; the message tells the operator what to check.

    Transient failures have been retried by the time this is raised.
    """


class StorageUnavailable(StorageError):
    """The store could not be reached or kept failing (network, timeouts, 5xx)."""


class EvidenceStore(Protocol):
    def put_file(self, source: Path) -> StoredBlob:
        """Take ownership of `source` (it is moved or removed) and return its hash."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """The stored bytes for reading, streamed; the caller closes the stream.

        Raises FileNotFoundError when nothing is stored under that hash.
        """
        ...

    def has(self, sha256: str) -> bool: ...

    def size(self, sha256: str) -> int: ...

    def scratch_dir(self) -> Path:
        """A local directory for downloads in progress (the same file system, locally)."""
        ...

    def check(self) -> None:
        """Raise StorageError unless files can be stored and read right now."""
        ...

    def describe(self) -> str:
        """Where the files are, for the operator (no credentials)."""
        ...

    def close(self) -> None: ...


def sha256_of(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def valid_sha(sha256: str) -> str:
    # The hash becomes a path: refuse anything that could walk out of the store.
    if not _HEX.fullmatch(sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return sha256


class LocalEvidenceStore:
    """`<root>/<sha[:2]>/<sha>`: one file per distinct content, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        sha = valid_sha(sha256)
        return self.root / sha[:2] / sha

    def scratch_dir(self) -> Path:
        scratch = self.root / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        return scratch

    def put_file(self, source: Path) -> StoredBlob:
        sha, size = sha256_of(source)
        target = self.path_of(sha)
        if target.exists():
            source.unlink(missing_ok=True)
            return StoredBlob(sha, size, created=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Same file system as the scratch dir: the rename is atomic, so a reader never
        # sees half a file and two concurrent writers of the same content both succeed.
        try:
            os.replace(source, target)
        except OSError:
            with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
                with source.open("rb") as src:
                    shutil.copyfileobj(src, tmp, CHUNK)
            os.replace(tmp.name, target)
            source.unlink(missing_ok=True)
        return StoredBlob(sha, size, created=True)

    def open(self, sha256: str) -> BinaryIO:
        return self.path_of(sha256).open("rb")

    def has(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def size(self, sha256: str) -> int:
        return self.path_of(sha256).stat().st_size

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"evidence directory {self.root}: {exc.strerror}") from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageError(f"evidence directory {self.root}: not writable by this user")

    def describe(self) -> str:
        return f"local directory {self.root}"

    def close(self) -> None:
        """Nothing is held open between calls."""

    def stored(self) -> Iterator[tuple[str, Path]]:
        """Every stored file as (sha256, path), in key order; downloads in progress excluded."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if len(folder.name) != 2 or not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if _HEX.fullmatch(path.name) and path.name[:2] == folder.name and path.is_file():
                    yield path.name, path


def local_store(data_dir: Path) -> LocalEvidenceStore:
    return LocalEvidenceStore(data_dir / "evidence")
