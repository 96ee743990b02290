"""The plain rules of evidence: what may be uploaded, where it goes, when it counts."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath
from zoneinfo import ZoneInfo

from bot.config import EvidenceConfig
from bot.core.parsing import parse_id
from db.models import EvidenceKind

MB = 1024 * 1024
# Clients send this when they do not know; it says nothing about the file.
_UNKNOWN_MIME = ("", "application/octet-stream")
_TASK_TAG = re.compile(r"#([0-9]+)")


@dataclass(frozen=True)
class Refusal:
    """Why a file was not accepted: a text id and its parameters."""

    text_id: str
    params: dict[str, object]


def extension_of(file_name: str) -> str:
    return PurePath(file_name).suffix.lower().lstrip(".")


def _mime_allowed(mime: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(mime, pattern.lower()) for pattern in patterns)


def check_file(
    config: EvidenceConfig, *, kind: EvidenceKind, file_name: str, mime_type: str, size: int | None
) -> Refusal | None:
    """None when the file may be stored; otherwise the reason, before any download."""
    limit = config.max_download_mb * MB
    if size is not None and size > limit:
        return Refusal("evidence.refused.too_big", {"size": round(size / MB, 1),
                                                    "limit": config.max_download_mb})
    if kind is EvidenceKind.PHOTO:
        return None  # Telegram re-encodes photos as JPEG: always an image.
    ext = extension_of(file_name)
    allowed_ext = {e.lower().lstrip(".") for e in config.allowed_extensions}
    mime = mime_type.lower()
    if (ext and ext not in allowed_ext) or (
        mime not in _UNKNOWN_MIME and not _mime_allowed(mime, config.allowed_mime_types)
    ):
        return Refusal("evidence.refused.type", {"kind": ext or mime or "?"})
    if not ext and mime in _UNKNOWN_MIME:
        return Refusal("evidence.refused.type", {"kind": "?"})
    return None


def is_image(kind: EvidenceKind, mime_type: str, file_name: str) -> bool:
    if kind is EvidenceKind.PHOTO or mime_type.lower().startswith("image/"):
        return True
    return extension_of(file_name) in ("jpg", "jpeg", "png", "webp", "heic", "heif", "tif", "tiff")


def task_tag(text: str | None) -> int | None:
    """The task a caption names with `#<id>`, if any."""
    match = _TASK_TAG.search(text or "")
    return parse_id(match.group(1)) if match else None


def description_from(caption: str) -> str:
    """The caption minus its `#<id>` tag: what the uploader says the file shows."""
    return _TASK_TAG.sub("", caption, count=1).strip()


def first_named_task(named: Sequence[int | None]) -> int | None:
    """An album's task: the first item that names one (usually only the first has a caption)."""
    return next((task_id for task_id in named if task_id is not None), None)


def campaign_start(phase_starts: Iterable[date | None], created_at: datetime, zone: ZoneInfo) -> date:
    """When the campaign began: its first phase, or the day it was set up."""
    starts = [d for d in phase_starts if d is not None]
    return min(starts) if starts else created_at.astimezone(zone).date()


def captured_before(taken_at: datetime | None, start: date, zone: ZoneInfo) -> bool:
    """A photo taken before the campaign began cannot show this campaign's work."""
    return taken_at is not None and taken_at.astimezone(zone).date() < start


def evidence_needed(required: int) -> int:
    """Pieces a task must carry to go to review: its quota, and at least one."""
    return max(required, 1)


def missing_approved(required: int, approved: int) -> int:
    """How many more approvals a task needs before it may be marked done."""
    return max(required - approved, 0)


def ready_to_close(required: int, approved: int, pending: int) -> bool:
    """A submitted task closes itself once review is over and the quota is met."""
    return pending == 0 and approved >= evidence_needed(required)
