"""The archive for inspectors: a ZIP organised indicator → unit → task, with index.xlsx.

Memory stays flat however large the archive: files are copied from the store into the
ZIP in 1 MB chunks (hashed on the way, so the index vouches for what is in the ZIP),
the index is streamed to a temporary file by the shared XLSX writer (`bot.core.spreadsheet`:
what people typed, captions and review notes included, is written as text), and the database
is read one task at a time. The ZIP writing is blocking I/O and runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from bot.core.spreadsheet import ColumnSpec, Workbook
from bot.evidence.rules import extension_of
from bot.evidence.store import CHUNK, EvidenceStore
from db.models import EvidenceStatus
from db.repositories import evidence as repo
from db.repositories.evidence import ArchiveFile, ArchiveTask
from db.session import Database

INDEX_NAME = "index.xlsx"
# Already-compressed formats gain nothing from deflate and cost CPU.
_STORED = frozenset(
    {"jpg", "jpeg", "png", "gif", "webp", "heic", "heif", "pdf", "docx", "xlsx", "pptx",
     "zip", "odt", "ods", "odp", "mp4"}
)
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\ud800-\udfff\ufffe\uffff]+')
# Widths of the index's columns, in the order of `ArchiveLabels.headers`.
_INDEX_WIDTHS = (7, 30, 16, 9, 9, 9, 40, 24, 20, 10, 17, 17, 9, 8, 24, 24, 8)
NAME_MAX = 60
DEFAULT_STATUSES = frozenset({EvidenceStatus.APPROVED, EvidenceStatus.PENDING})

Progress = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True)
class ArchiveLabels:
    """The words the index and folders use, in the reader's language."""

    headers: Sequence[str]
    task_status: Mapping[str, str]
    decision: Mapping[str, str]
    check: Mapping[str, str]  # "ok", "mismatch", "missing"
    no_indicator: str


@dataclass
class ArchiveStats:
    tasks: int = 0
    files: int = 0
    bytes: int = 0
    missing: list[int] = field(default_factory=list)
    mismatched: list[int] = field(default_factory=list)


def safe_name(text: str, limit: int = NAME_MAX) -> str:
    """A path component every OS accepts: no separators or control characters."""
    cleaned = _UNSAFE.sub("_", text).strip(" .")
    return cleaned[:limit].rstrip(" .") or "_"


def task_folder(task: ArchiveTask, no_indicator: str) -> str:
    if task.indicator_code:
        indicator = safe_name(f"{task.indicator_code} {task.indicator_name or ''}")
    else:
        indicator = safe_name(no_indicator)
    return "/".join(
        (indicator, safe_name(task.unit_name), safe_name(f"#{task.task_id} {task.title}"))
    )


def member_name(folder: str, item: ArchiveFile) -> str:
    # The evidence id keeps names unique in the folder even when people reuse file names.
    return f"{folder}/E{item.evidence_id}_{safe_name(item.file_name, 80)}"


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


class ArchiveWriter:
    """Writes one ZIP; blocking, so call it from a worker thread."""

    def __init__(
        self, out: Path, store: EvidenceStore, labels: ArchiveLabels, zone: ZoneInfo
    ) -> None:
        self.store = store
        self.labels = labels
        self.zone = zone
        self.stats = ArchiveStats()
        self._zip = zipfile.ZipFile(out, "w", allowZip64=True)
        self._scratch = Path(tempfile.mkdtemp(prefix="archive-index-"))
        self._book = Workbook(self._scratch / INDEX_NAME)
        widths = [*_INDEX_WIDTHS, *([12] * max(0, len(labels.headers) - len(_INDEX_WIDTHS)))]
        self._sheet = self._book.add_sheet(
            "index", [ColumnSpec(h, w) for h, w in zip(labels.headers, widths, strict=False)]
        )

    def add_task(self, task: ArchiveTask, files: Sequence[ArchiveFile]) -> None:
        folder = task_folder(task, self.labels.no_indicator)
        self.stats.tasks += 1
        for item in files:
            name = member_name(folder, item)
            check = self._copy(name, item)
            self._sheet.append([
                task.task_id, task.title, task.unit_name, task.indicator_code or "",
                task.owner_name or "", self.labels.task_status.get(task.status, task.status),
                name if check != "missing" else "", item.file_name, item.sha256, item.size,
                _local(item.uploaded_at, self.zone), _local(item.exif_taken_at, self.zone),
                item.reviewer_name or "", self.labels.decision.get(item.status, item.status),
                item.review_note, item.description, self.labels.check[check],
            ])

    def _copy(self, name: str, item: ArchiveFile) -> str:
        try:
            source = self.store.open(item.sha256)
        except FileNotFoundError:
            self.stats.missing.append(item.evidence_id)
            return "missing"
        info = zipfile.ZipInfo(name, item.uploaded_at.astimezone(self.zone).timetuple()[:6])
        stored = extension_of(item.file_name) in _STORED
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        digest = hashlib.sha256()
        with source, self._zip.open(info, "w", force_zip64=True) as target:
            size = _copy_hashing(source, target, digest)
        self.stats.files += 1
        self.stats.bytes += size
        if digest.hexdigest() != item.sha256:
            self.stats.mismatched.append(item.evidence_id)
            return "mismatch"
        return "ok"

    def abort(self) -> None:
        self._book.abort()
        shutil.rmtree(self._scratch, ignore_errors=True)
        try:
            self._zip.close()
        except (OSError, ValueError):
            pass  # the half-written file is deleted by the caller anyway

    def finish(self) -> None:
        try:
            self._book.close()
            self._zip.write(self._scratch / INDEX_NAME, INDEX_NAME,
                            compress_type=zipfile.ZIP_DEFLATED)
        finally:
            shutil.rmtree(self._scratch, ignore_errors=True)
        self._zip.close()


def _copy_hashing(source: IO[bytes], target: IO[bytes], digest: hashlib._Hash) -> int:
    size = 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return size


async def build_archive(
    db: Database,
    store: EvidenceStore,
    out: Path,
    labels: ArchiveLabels,
    zone: ZoneInfo,
    *,
    statuses: Collection[EvidenceStatus] = DEFAULT_STATUSES,
    on_progress: Progress | None = None,
) -> ArchiveStats:
    """Write the archive to `out` (replaced only once complete); returns what went in."""
    async with db.session() as session:
        tasks = await repo.archive_tasks(session=session, statuses=statuses)
        total = await repo.count_archive_files(session=session, statuses=statuses)
    partial = out.with_name(out.name + ".part")
    writer = await asyncio.to_thread(ArchiveWriter, partial, store, labels, zone)
    try:
        done = 0
        for task in tasks:
            async with db.session() as session:
                files = await repo.archive_files(
                    session=session, task_id=task.task_id, statuses=statuses
                )
            await asyncio.to_thread(writer.add_task, task, files)
            done += len(files)
            if on_progress is not None:
                await on_progress(done, total)
        await asyncio.to_thread(writer.finish)
        await asyncio.to_thread(os.replace, partial, out)
    except BaseException:
        await asyncio.to_thread(writer.abort)
        raise
    finally:
        await asyncio.to_thread(partial.unlink, missing_ok=True)
    return writer.stats
