"""One message or album of evidence as the Telegram edge sees it: the files it hands in,
how it downloads one (`Fetch`), and what became of them (`BatchOutcome`, one reply)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.core.errors import DomainError
from bot.core.paging import Page
from bot.evidence.exif import ExifInfo
from db.models import Evidence, EvidenceKind

# Downloads `file_id` into the given path; raises DownloadRefused when Telegram won't,
# DownloadFailed when it could not for now (after its own retries).
Fetch = Callable[[str, Path], Awaitable[None]]


class DownloadRefused(DomainError):
    """Telegram would not hand the file over (e.g. over its getFile size limit)."""


class DownloadFailed(DomainError):
    """Telegram did not hand the file over this time (5xx, a dropped connection, a long
    flood wait) although it was tried again: the file waits for the sender's retry."""


@dataclass(frozen=True)
class IncomingFile:
    """One received photo or document, as the Telegram edge read it."""

    kind: EvidenceKind
    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str
    size: int | None
    caption: str
    chat_id: int
    message_id: int
    media_group_id: str | None
    named_task_id: int | None

    @property
    def batch_key(self) -> str:
        return self.media_group_id or f"m{self.chat_id}:{self.message_id}"


@dataclass(frozen=True)
class AttachedFile:
    evidence_id: int
    file_name: str
    exif: ExifInfo
    captured_early: bool
    also_on: list[int]


@dataclass(frozen=True)
class SkippedFile:
    file_name: str
    text_id: str
    params: dict[str, object]

    @staticmethod
    def duplicate(file_name: str, known: Evidence) -> SkippedFile:
        """The task already holds this content as `known`."""
        return SkippedFile(
            file_name, "evidence.refused.duplicate",
            {"evidence_id": known.id, "status": known.status.value},
        )


@dataclass
class BatchOutcome:
    """What happened to one message or album; the edge renders it as one reply."""

    chat_id: int
    reply_to: int
    language: str
    task_id: int | None = None
    task_title: str = ""
    attached: list[AttachedFile] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    # Set when the task is unclear: the sender picks one of these (id, title), the first
    # page of their open tasks.
    choices: list[tuple[int, str]] = field(default_factory=list)
    choice_page: Page | None = None
    choice_row_id: int | None = None
    waiting: int = 0
    # Files Telegram did not hand over this time: they wait in the inbox, and the answer
    # offers to try again (the inbox row of the first, for the button).
    retry: list[SkippedFile] = field(default_factory=list)
    retry_row_id: int | None = None
    error: DomainError | None = None
    photo_hint: bool = False
    campaign_start: date | None = None
    approved: int = 0
    pending: int = 0
    required: int = 0
    # The task waits for review already: new files join it, no "submit" is asked for.
    submitted: bool = False
