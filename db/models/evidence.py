"""Evidence (佐证材料): files attached to tasks, their review, and uploads still in flight."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base
from db.models.core import Person, Task, _enum


class EvidenceStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class EvidenceKind(enum.StrEnum):
    # A compressed photo has lost its EXIF on Telegram's side; a document is the original.
    PHOTO = "photo"
    DOCUMENT = "document"


class Evidence(Base):
    """One file attached to one task; the bytes live in the evidence store under `sha256`."""

    __tablename__ = "evidence"
    __table_args__ = (
        # The same content twice on one task is a duplicate; on two tasks it is allowed.
        UniqueConstraint("task_id", "sha256", name="uq_evidence_task_sha256"),
        Index("ix_evidence_status_uploaded", "status", "uploaded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    kind: Mapped[EvidenceKind] = mapped_column(_enum(EvidenceKind))
    file_id: Mapped[str] = mapped_column(String(200))
    file_unique_id: Mapped[str] = mapped_column(String(100), index=True)
    file_name: Mapped[str] = mapped_column(String(300))
    mime_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    media_group_id: Mapped[str | None] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column()
    exif_taken_at: Mapped[datetime | None] = mapped_column()
    exif_latitude: Mapped[float | None] = mapped_column(Float)
    exif_longitude: Mapped[float | None] = mapped_column(Float)
    status: Mapped[EvidenceStatus] = mapped_column(
        _enum(EvidenceStatus), default=EvidenceStatus.PENDING
    )
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column()
    review_note: Mapped[str] = mapped_column(Text, default="")

    task: Mapped[Task] = relationship()
    uploader: Mapped[Person | None] = relationship(foreign_keys=[uploader_id])
    reviewer: Mapped[Person | None] = relationship(foreign_keys=[reviewer_id])


class EvidenceInbox(Base):
    """A received file not yet attached: an album still arriving, or a task still unclear.

    Written as each message arrives so that a restart loses nothing; rows of one album (or
    one single message) share `batch_key`.
    """

    __tablename__ = "evidence_inbox"
    __table_args__ = (Index("ix_evidence_inbox_person_batch", "person_id", "batch_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    batch_key: Mapped[str] = mapped_column(String(64))
    media_group_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[EvidenceKind] = mapped_column(_enum(EvidenceKind))
    file_id: Mapped[str] = mapped_column(String(200))
    file_unique_id: Mapped[str] = mapped_column(String(100))
    file_name: Mapped[str] = mapped_column(String(300), default="")
    mime_type: Mapped[str] = mapped_column(String(120), default="")
    size: Mapped[int | None] = mapped_column(BigInteger)
    caption: Mapped[str] = mapped_column(Text, default="")
    # The task the message itself names (caption `#id` or a reply to a card), if any.
    named_task_id: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column()
    # Set once the sender holds a button for the batch: which task it belongs to, or to
    # try a download again. A restart then leaves the batch to the sender.
    asked_at: Mapped[datetime | None] = mapped_column()


class UploadTarget(Base):
    """After the card's "upload evidence" button: where this person's next files go."""

    __tablename__ = "evidence_upload_targets"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True
    )
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column()
