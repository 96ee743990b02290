"""Importing a task breakdown table: a preview first, then everything in one transaction.

Both read the file and plan it against the database as it is now (`bot.tables.planner`).
Applying plans again inside the caller's transaction: if anything is wrong by then,
nothing is written; otherwise new units, people, indicators and tasks and the tasks'
history are inserted in batches.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import metrics
from bot.core.errors import InvalidInput
from bot.core.events import record_change
from bot.core.roster import guess_unit_kind
from bot.tables.parse import Column, read_table_off_loop
from bot.tables.planner import (
    ImportOptions,
    ImportPlan,
    ImportPreview,
    Ref,
    Snapshot,
    load_snapshot,
    plan_import,
)
from db.models import Role, TaskStatus
from db.repositories import tables as imports_repo


@metrics.timed_import("breakdown", "preview")
async def preview_import(
    session: AsyncSession, data: bytes, file_name: str, options: ImportOptions,
    *, now: datetime | None = None,
) -> ImportPreview:
    """Read and check the table; writes nothing. Given `now`, deadlines it would set in
    the past are warned about."""
    sheet = await read_table_off_loop(data, file_name, max_rows=options.max_rows,
                                      limits=options.limits)
    snap = await load_snapshot(session)
    return plan_import(snap, sheet, options, now).preview(file_name, snap.campaign.id)


@metrics.timed_import("breakdown", "apply")
async def apply_import(
    session: AsyncSession,
    data: bytes,
    file_name: str,
    options: ImportOptions,
    *,
    actor_id: int | None,
    now: datetime,
    campaign_id: int | None = None,
) -> ImportPreview:
    """Check the table again and write it; raises (writing nothing) if any row is wrong.

    `campaign_id` is the campaign the preview was made for: if another campaign has become
    the active one since, the table is not applied to it. Only flushes: the caller's unit
    of work commits it all or rolls it all back.
    """
    sheet = await read_table_off_loop(data, file_name, max_rows=options.max_rows,
                                      limits=options.limits)
    snap = await load_snapshot(session)
    if campaign_id is not None and snap.campaign.id != campaign_id:
        raise InvalidInput("tables.result.gone")
    plan = plan_import(snap, sheet, options, now)
    if plan.errors:
        raise InvalidInput("tables.apply_refused", count=len(plan.errors))
    unit_ids = await _create_units(session, snap, plan.new_units)
    person_ids = await _create_people(session, plan.new_people, unit_ids)
    indicator_ids = await _create_indicators(session, plan.new_indicators)

    def resolve(ref: Ref | None, created: Mapping[str, int]) -> int | None:
        return None if ref is None else ref if isinstance(ref, int) else created[ref]

    new_rows: list[dict[str, object]] = []
    for p in plan.planned:
        row = p.row
        values: dict[str, object] = {
            "title": row.title,
            "unit_id": resolve(p.unit, unit_ids),
            "owner_id": resolve(p.owner, person_ids),
            "due_at": row.due_at,
        }
        optional: dict[Column, tuple[str, object]] = {
            Column.INDICATOR: ("indicator_id", resolve(p.indicator, indicator_ids)),
            Column.PHASE: ("phase_id", p.phase_id),
            Column.EVIDENCE: ("evidence_required", row.evidence_required),
            Column.EVIDENCE_LIST: ("evidence_items", list(row.evidence_items)),
            Column.LEADER: ("leader_id", p.leader_id),
            Column.DESCRIPTION: ("description", row.description),
            Column.PRIORITY: ("priority", row.priority),
        }
        for column, (name, value) in optional.items():
            if sheet.has(column) or p.task is None:
                values[name] = value
        if sheet.has(Column.EVIDENCE_LIST):
            values["evidence_required"] = row.evidence_required
        if p.task is None:
            new_rows.append({
                **values, "campaign_id": snap.campaign.id, "key": row.key, "created_at": now,
                "updated_at": now, "status": TaskStatus.TODO, "progress": 0, "done_at": None,
            })
        elif p.changes:
            for name, new_value in values.items():
                setattr(p.task, name, new_value)
            p.task.updated_at = now
    created = await imports_repo.insert_tasks(session=session, rows=new_rows)
    await _write_partners(session, plan, created, unit_ids, replace=sheet.has(Column.PARTNERS))
    await _write_history(session, plan, created, file_name, actor_id=actor_id, now=now)
    return plan.preview(file_name, snap.campaign.id)


async def _write_partners(
    session: AsyncSession,
    plan: ImportPlan,
    created: Mapping[str, int],
    unit_ids: Mapping[str, int],
    *,
    replace: bool,
) -> None:
    """New tasks' co-operating units; an existing task's are replaced when they changed."""
    rows: list[dict[str, object]] = []
    replaced: list[int] = []
    for p in plan.planned:
        if p.task is None:
            task_id = created[p.row.key]
        elif replace and any(c.field == "partners" for c in p.changes):
            task_id = p.task.id
            replaced.append(task_id)
        else:
            continue
        rows.extend(
            {"task_id": task_id, "unit_id": ref if isinstance(ref, int) else unit_ids[ref],
             "position": position}
            for position, ref in enumerate(p.partners)
        )
    await imports_repo.replace_partners(session=session, task_ids=replaced, rows=rows)


async def _write_history(
    session: AsyncSession,
    plan: ImportPlan,
    created: Mapping[str, int],
    file_name: str,
    *,
    actor_id: int | None,
    now: datetime,
) -> None:
    """The history `tasks.record_event` would write, inserted in one batch.

    One flush per event would make a 5,000-row import take many seconds; listeners still
    hear about every task once the transaction has committed.
    """
    events: list[dict[str, object]] = []

    def event(task_id: int, kind: str, old: str | None, new: str, note: str) -> None:
        events.append({"task_id": task_id, "actor_id": actor_id, "at": now, "kind": kind,
                       "old_value": old, "new_value": new, "note": note})

    for p in plan.planned:
        if p.task is None:
            task_id = created[p.row.key]
            event(task_id, "imported", None, p.row.title[:500], file_name)
            record_change(session, task_id, "imported")
        elif p.changes:
            for c in p.changes:
                event(p.task.id, "updated", c.old[:500], c.new[:500], c.field)
            record_change(session, p.task.id, "updated")
    await imports_repo.insert_events(session=session, rows=events)


async def _create_units(
    session: AsyncSession, snap: Snapshot, wanted: Mapping[str, str]
) -> dict[str, int]:
    """Create the new units parents first (a parent may itself be new)."""
    ids = {name: unit.id for name, unit in snap.units.items()}
    pending = dict(wanted)
    while pending:
        ready = [name for name, parent in pending.items() if not parent or parent in ids]
        if not ready:  # a cycle among new units: place the rest at the top of the tree
            ready = list(pending)
        ids |= await imports_repo.insert_units(session=session, rows=[
            {"name": name, "kind": guess_unit_kind(name), "parent_id": ids.get(pending[name])}
            for name in ready
        ])
        for name in ready:
            del pending[name]
    return ids


async def _create_people(
    session: AsyncSession, wanted: Mapping[str, str], unit_ids: Mapping[str, int]
) -> dict[str, int]:
    return await imports_repo.insert_people(session=session, rows=[
        {"name": name, "unit_id": unit_ids[unit], "role": Role.RESPONSIBLE}
        for name, unit in wanted.items()
    ])


async def _create_indicators(
    session: AsyncSession, wanted: Mapping[str, tuple[str, bool]]
) -> dict[str, int]:
    return await imports_repo.insert_indicators(session=session, rows=[
        {"code": code, "name": name, "veto": veto} for code, (name, veto) in wanted.items()
    ])
