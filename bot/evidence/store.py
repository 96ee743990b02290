"""Where evidence bytes live: content-addressed by SHA-256 behind a small interface.

The database keeps only the hash; an object store can replace the local directory by
implementing `EvidenceStore`. Every method is blocking file I/O, so async callers run
them in a worker thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    # False when identical bytes were already stored (nothing new was written).
    created: bool


class EvidenceStore(Protocol):
    def put_file(self, source: Path) -> StoredBlob:
        """Take ownership of `source` (it is moved or removed) and return its hash."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """The stored bytes for reading; the caller closes the stream."""
        ...

    def has(self, sha256: str) -> bool: ...

    def size(self, sha256: str) -> int: ...

    def scratch_dir(self) -> Path:
        """A directory on the same file system for downloads in progress."""
        ...


def sha256_of(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _valid_sha(sha256: str) -> str:
    # The hash becomes a path: refuse anything that could walk out of the store.
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return sha256


class LocalEvidenceStore:
    """`<root>/<sha[:2]>/<sha>`: one file per distinct content, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        sha = _valid_sha(sha256)
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


def local_store(data_dir: Path) -> LocalEvidenceStore:
    return LocalEvidenceStore(data_dir / "evidence")
