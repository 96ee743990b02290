"""Moving evidence into object storage, and checking that every recorded file is intact.

`copy_to_bucket` copies the local store into the bucket: every file is hashed at the
source (a local file whose bytes no longer match its name is reported, never copied),
sent unless the bucket already has it, and read back from the bucket and hashed again.
It can be interrupted and run again: what is in the bucket with the right bytes is not
sent twice. The local copy is never deleted.

`verify_store` reads every content the evidence table refers to from a store and checks
its size and SHA-256 (or, `quick`, only that it is there with the right size).

Both are blocking and run their files on a small pool of threads: object storage answers
each request after a round trip, so a few at once keep the line busy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from bot.evidence.s3 import S3EvidenceStore
from bot.evidence.store import CHUNK, EvidenceStore, LocalEvidenceStore, StorageError
from db.repositories.evidence import StoredContent

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class CopyReport:
    files: int = 0
    bytes: int = 0
    copied: int = 0
    copied_bytes: int = 0
    # In the bucket already, read back and found right.
    present: int = 0
    present_bytes: int = 0
    # In the bucket with the wrong bytes: sent again, read back and found right.
    replaced: list[str] = field(default_factory=list)
    # Local files whose bytes do not hash to their name: not copied.
    damaged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.damaged and not self.failed


@dataclass
class VerifyReport:
    contents: int = 0
    rows: int = 0
    bytes: int = 0
    missing: list[int] = field(default_factory=list)  # evidence ids
    mismatched: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.mismatched and not self.failed


def _hash_stream(store: EvidenceStore, sha: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with store.open(sha) as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _bounded_map(work: Callable[[T], R], items: Iterable[T], jobs: int) -> Iterator[R]:
    """`work` over `items` on `jobs` threads, never more than 2 × jobs queued at once."""
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="storage") as pool:
        running: set[Future[R]] = set()
        for item in items:
            if len(running) >= 2 * jobs:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)
            running.add(pool.submit(work, item))
        for future in running:
            yield future.result()


@dataclass(frozen=True)
class _Copied:
    sha: str
    size: int
    outcome: str  # copied, present, replaced, damaged, failed
    error: str = ""


def _copy_one(target: S3EvidenceStore, sha: str, path: Path) -> _Copied:
    try:
        actual, size, parts = target.fingerprint(path)
        if actual != sha:
            return _Copied(sha, size, "damaged", f"its bytes hash to {actual}")
        info = target.info(sha)
        if info is not None and info.size == size and _hash_stream(target, sha) == (sha, size):
            return _Copied(sha, size, "present")
        target.upload(path, sha, size, parts=parts, replace=info is not None)
        if _hash_stream(target, sha) != (sha, size):
            return _Copied(sha, size, "failed", "read back from the bucket, its bytes differ")
        return _Copied(sha, size, "replaced" if info is not None else "copied")
    except (StorageError, OSError) as exc:
        return _Copied(sha, 0, "failed", str(exc))


def copy_to_bucket(
    source: LocalEvidenceStore,
    target: S3EvidenceStore,
    *,
    jobs: int = 4,
    on_progress: Callable[[int, int, CopyReport], None] | None = None,
) -> CopyReport:
    """Copy every file of `source` into `target` and read each back; see the module doc."""
    target.check()
    files = list(source.stored())
    report = CopyReport()

    def copy(entry: tuple[str, Path]) -> _Copied:
        return _copy_one(target, *entry)

    for done, result in enumerate(_bounded_map(copy, files, jobs), start=1):
        report.files += 1
        report.bytes += result.size
        if result.outcome == "copied":
            report.copied += 1
            report.copied_bytes += result.size
        elif result.outcome == "present":
            report.present += 1
            report.present_bytes += result.size
        elif result.outcome == "replaced":
            report.replaced.append(result.sha)
            report.copied_bytes += result.size
        elif result.outcome == "damaged":
            report.damaged.append(result.sha)
        else:
            report.failed.append((result.sha, result.error))
        if on_progress is not None:
            on_progress(done, len(files), report)
    return report


@dataclass(frozen=True)
class _Checked:
    content: StoredContent
    outcome: str  # ok, missing, mismatched, failed
    error: str = ""


def _check_one(store: EvidenceStore, content: StoredContent, quick: bool) -> _Checked:
    try:
        if quick:
            size = store.size(content.sha256)
            right = size == content.size
        else:
            right = _hash_stream(store, content.sha256) == (content.sha256, content.size)
        return _Checked(content, "ok" if right else "mismatched")
    except FileNotFoundError:
        return _Checked(content, "missing")
    except (StorageError, OSError) as exc:
        return _Checked(content, "failed", str(exc))


def verify_store(
    store: EvidenceStore,
    contents: Sequence[StoredContent],
    *,
    quick: bool = False,
    jobs: int = 4,
    on_progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """Check every content the evidence table refers to; see the module doc."""
    store.check()
    report = VerifyReport()

    def check(content: StoredContent) -> _Checked:
        return _check_one(store, content, quick)

    for done, result in enumerate(_bounded_map(check, contents, jobs), start=1):
        ids = result.content.evidence_ids
        report.contents += 1
        report.rows += len(ids)
        if result.outcome == "ok":
            report.bytes += result.content.size
        elif result.outcome == "missing":
            report.missing.extend(ids)
        elif result.outcome == "mismatched":
            report.mismatched.extend(ids)
        else:
            report.failed.extend((i, result.error) for i in ids)
        if on_progress is not None:
            on_progress(done, len(contents))
    report.missing.sort()
    report.mismatched.sort()
    report.failed.sort()
    return report
