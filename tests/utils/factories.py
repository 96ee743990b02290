"""Test data built through the real models (and flushed, never committed here)."""

from __future__ import annotations

import itertools
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Campaign, Indicator, Person, Phase, Role, Task, TaskStatus, Unit, UnitKind

_seq = itertools.count(1)


async def campaign(
    session: AsyncSession, *, name: str = "义务教育均衡发展迎检", inspection: date | None = None
) -> Campaign:
    c = Campaign(name=name, inspection_date=inspection or date(2026, 12, 20),
                 timezone="Asia/Shanghai")
    session.add(c)
    await session.flush()
    return c


async def phase(session: AsyncSession, campaign: Campaign, name: str = "整改", position: int = 1,
                starts: date | None = None, ends: date | None = None) -> Phase:
    p = Phase(campaign_id=campaign.id, name=name, position=position, starts_on=starts, ends_on=ends)
    session.add(p)
    await session.flush()
    return p


async def unit(session: AsyncSession, name: str | None = None, *, parent: Unit | None = None,
               kind: UnitKind = UnitKind.DEPARTMENT) -> Unit:
    u = Unit(name=name or f"单位{next(_seq)}", kind=kind, parent_id=parent.id if parent else None)
    session.add(u)
    await session.flush()
    return u


async def person(session: AsyncSession, name: str | None = None, *, unit: Unit | None = None,
                 role: Role = Role.RESPONSIBLE, telegram_id: int | None = None,
                 language: str = "zh") -> Person:
    p = Person(name=name or f"人员{next(_seq)}", unit_id=unit.id if unit else None, role=role,
               telegram_id=telegram_id, language=language)
    session.add(p)
    await session.flush()
    return p


async def indicator(session: AsyncSession, code: str | None = None, *, name: str = "指标",
                    veto: bool = False) -> Indicator:
    i = Indicator(code=code or f"I{next(_seq)}", name=name, veto=veto)
    session.add(i)
    await session.flush()
    return i


async def task(session: AsyncSession, campaign: Campaign, *, unit: Unit, owner: Person | None,
               title: str | None = None, due_at: datetime | None = None,
               status: TaskStatus = TaskStatus.TODO, indicator: Indicator | None = None,
               evidence_required: int = 0, phase: Phase | None = None) -> Task:
    n = next(_seq)
    t = Task(campaign_id=campaign.id, key=f"t{n}", title=title or f"任务{n}", unit_id=unit.id,
             owner_id=owner.id if owner else None, due_at=due_at, status=status,
             indicator_id=indicator.id if indicator else None,
             evidence_required=evidence_required, phase_id=phase.id if phase else None)
    session.add(t)
    await session.flush()
    return t
