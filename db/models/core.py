"""The foundation: campaigns, phases, units, people, indicators, tasks and their history."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, StringList


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings (no native PostgreSQL enum) so adding a value is a one-line
    # migration and the same schema runs on SQLite.
    return Enum(
        cls,
        native_enum=False,
        length=20,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Role(enum.StrEnum):
    ADMIN = "admin"
    LEADER = "leader"
    RESPONSIBLE = "responsible"
    STAFF = "staff"


class UnitKind(enum.StrEnum):
    COUNTY = "county"
    TOWNSHIP = "township"
    DEPARTMENT = "department"
    SCHOOL = "school"
    OTHER = "other"


class TaskStatus(enum.StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    DONE = "done"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self not in (TaskStatus.DONE, TaskStatus.CANCELLED)


OPEN_STATUSES = tuple(s for s in TaskStatus if s.is_open)


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    inspection_date: Mapped[date | None] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    leaders_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    phases: Mapped[list[Phase]] = relationship(
        back_populates="campaign", order_by="Phase.position", cascade="all, delete-orphan"
    )


class Phase(Base):
    __tablename__ = "phases"
    __table_args__ = (UniqueConstraint("campaign_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)

    campaign: Mapped[Campaign] = relationship(back_populates="phases")


class Unit(Base):
    """A member unit: the county, a township or department, a school (a tree)."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[UnitKind] = mapped_column(_enum(UnitKind), default=UnitKind.OTHER)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # 一把手/分管领导: receives escalations and reviews the unit's evidence.
    leader_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", use_alter=True, ondelete="SET NULL")
    )


class Person(Base):
    __tablename__ = "persons"
    __table_args__ = (UniqueConstraint("unit_id", "name", name="uq_persons_unit_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.RESPONSIBLE)
    language: Mapped[str] = mapped_column(String(8), default="zh")
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    # Kept for the office's own records; never logged nor shown in bot messages.
    phone: Mapped[str | None] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    digest_time: Mapped[time | None] = mapped_column(Time)
    unreachable_since: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])


class Indicator(Base):
    """An evaluation indicator (评估指标); a one-vote-veto one fails the whole inspection."""

    __tablename__ = "indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("indicators.id"))
    veto: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("campaign_id", "key", name="uq_tasks_campaign_key"),
        Index("ix_tasks_owner_status_due", "owner_id", "status", "due_at"),
        # The group columns at the end: a summary's late-task correction reads a range of
        # deadlines from this index alone (`db.repositories.reports.kept`).
        Index("ix_tasks_campaign_status_due", "campaign_id", "status", "due_at", "unit_id",
              "indicator_id", "phase_id"),
        Index("ix_tasks_unit_status", "unit_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    # Stable identity across re-imports of the same breakdown table.
    key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicators.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("phases.id"))
    due_at: Mapped[datetime | None] = mapped_column()
    priority: Mapped[int] = mapped_column(Integer, default=2)
    # 责任领导: the leader answerable for the task (分管领导), beside its owner (责任人).
    leader_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus), default=TaskStatus.TODO)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    evidence_required: Mapped[int] = mapped_column(Integer, default=0)
    # The evidence asked for by name (会议纪要, 签到表 …); `evidence_required` counts pieces.
    evidence_items: Mapped[list[str]] = mapped_column(StringList(), default=list,
                                                      server_default="[]")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    done_at: Mapped[datetime | None] = mapped_column()
    # Changes to the task so far. A change bumps it first (`db.repositories.tasks.lock_task`):
    # that write takes the row for the transaction, so two presses at once run one after
    # the other and the second sees what the first did.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))

    indicator: Mapped[Indicator | None] = relationship()
    unit: Mapped[Unit] = relationship()
    owner: Mapped[Person | None] = relationship(foreign_keys=[owner_id])
    leader: Mapped[Person | None] = relationship(foreign_keys=[leader_id])
    phase: Mapped[Phase | None] = relationship()
    partners: Mapped[list[TaskPartner]] = relationship(
        order_by="TaskPartner.position", cascade="all, delete-orphan"
    )

    @property
    def partner_names(self) -> list[str]:
        return [p.unit.name for p in self.partners]


class TaskPartner(Base):
    """A co-operating unit of a task (配合单位, "会同…"): it helps; the task's unit owns it."""

    __tablename__ = "task_partners"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    unit: Mapped[Unit] = relationship()


class TaskEvent(Base):
    """Append-only history of a task: nothing here is ever updated or deleted."""

    __tablename__ = "task_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    at: Mapped[datetime] = mapped_column()
    kind: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(String(500))
    new_value: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str] = mapped_column(Text, default="")


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class PendingImport(Base):
    """A parsed breakdown table waiting for the admin's confirmation (survives restarts)."""

    __tablename__ = "pending_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    file_name: Mapped[str] = mapped_column(String(300))
    stored_path: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column()
    applied_at: Mapped[datetime | None] = mapped_column()
