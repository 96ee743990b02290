"""Reports: the bulletin log, and the indexes the summary's aggregations scan."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.models.core import Task


class BulletinLog(Base):
    """One bulletin handed to delivery. The unique key makes a week's bulletin go out once,
    however often the scheduler fires or the bot restarts."""

    __tablename__ = "bulletin_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    # `bulletin:<campaign>:<iso week>` when scheduled, `…:manual:<timestamp>` when by hand.
    key: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # The start of the period this bulletin covers (the previous bulletin's `sent_at`).
    since: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime] = mapped_column(index=True)


# Covering indexes: each summary aggregation is one scan of a narrow index (status, due
# date, progress and the scope columns included) instead of the wide task rows, whatever
# the reader's scope. Declared here so autogenerate sees them as ours.
_tasks = Task.__table__.c
Index(
    "ix_tasks_report_unit",
    _tasks.campaign_id, _tasks.unit_id, _tasks.status, _tasks.due_at, _tasks.progress,
    _tasks.owner_id,
)
# PostgreSQL also carries the task's id in it, so the veto risk list (a page of task ids)
# is read from the index alone; SQLite keeps the rowid in every index anyway.
Index(
    "ix_tasks_report_indicator_phase",
    _tasks.campaign_id, _tasks.indicator_id, _tasks.phase_id, _tasks.status, _tasks.due_at,
    _tasks.progress, _tasks.unit_id, _tasks.owner_id,
    postgresql_include=["id"],
)
