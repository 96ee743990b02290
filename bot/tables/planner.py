"""What importing a task breakdown table would change, worked out before anything is written.

The whole table is checked against the database as it is now (loaded once into dicts, so
5,000 rows cost a handful of queries): every row is resolved to its task, unit, owner,
indicator and phase, what the import would create is collected, and each existing task's
changed fields are listed. The importer (`bot.tables.importer`) previews or applies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from bot.core.errors import InvalidInput
from bot.core.roster import nearest_name
from bot.tables.parse import Column, Sheet
from bot.tables.rows import PRIORITY_LABELS, RowError, TableRow, convert_row, text_of
from bot.tables.xlsx import MB, ReadLimits
from db.models import Campaign, Indicator, Person, Phase, Role, Task, TaskStatus, Unit
from db.repositories import campaigns as campaigns_repo
from db.repositories import people as people_repo
from db.repositories import tables as imports_repo

# A new person, unit or indicator is referred to by name until the import creates it.
Ref = int | str


@dataclass(frozen=True)
class ImportOptions:
    zone: ZoneInfo
    default_due_time: time
    create_people: bool
    max_rows: int
    # A unit name not on the roster: a new unit (True) or a row error with the nearest
    # known name (False, the default: a typo must not create a unit nobody belongs to).
    create_units: bool = False
    # How much of the file may be read (columns, unpacked bytes, seconds); rows: max_rows.
    limits: ReadLimits = field(default_factory=ReadLimits)

    @classmethod
    def from_config(cls, config: AppConfig) -> ImportOptions:
        return cls(
            zone=config.zone,
            default_due_time=config.campaign.default_due_time,
            create_people=config.import_.create_people,
            max_rows=config.import_.max_rows,
            create_units=config.import_.create_units,
            limits=ReadLimits(
                rows=config.import_.max_rows, columns=config.import_.max_columns,
                bytes=config.import_.max_unpacked_mb * MB,
                seconds=config.import_.max_seconds,
            ),
        )


@dataclass(frozen=True)
class Change:
    """One field of an existing task that the table changes (values as people read them)."""

    field: str
    old: str
    new: str


@dataclass(frozen=True)
class ImportPreview:
    """What applying the table would do, or did; `errors` empty means it can be applied."""

    file_name: str
    campaign_id: int
    rows: int
    new_tasks: int
    updated_tasks: int
    unchanged_tasks: int
    new_units: tuple[str, ...]
    new_people: tuple[str, ...]
    new_indicators: tuple[str, ...]
    absent_tasks: int
    errors: tuple[RowError, ...]
    # Accepted, but worth a second look (a deadline already past).
    warnings: tuple[RowError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def needs_writing(self) -> bool:
        """Whether applying it would write anything (valid, and some task new or changed)."""
        return self.ok and bool(self.new_tasks or self.updated_tasks)


@dataclass
class Snapshot:
    """What the import checks rows against, loaded once: the active campaign and its world."""

    campaign: Campaign
    phases: dict[str, Phase]
    units: dict[str, Unit]
    unit_names: dict[int, str]
    people: dict[str, list[Person]]
    person_names: dict[int, str]
    # Deactivated people still hold their (unit, name): a new person cannot take it.
    inactive: set[tuple[int | None, str]]
    indicators: dict[str, Indicator]
    indicator_codes: dict[int, str]
    tasks: dict[str, Task]
    # Each task's co-operating units, in order.
    partners: dict[int, tuple[int, ...]] = field(default_factory=dict)


@dataclass
class PlannedRow:
    """A valid row resolved: its task (None: a new one), references, and what it changes."""

    row: TableRow
    task: Task | None
    unit: Ref
    owner: Ref
    indicator: Ref | None
    phase_id: int | None
    partners: tuple[Ref, ...] = ()
    leader_id: int | None = None
    changes: list[Change] = field(default_factory=list)


@dataclass
class ImportPlan:
    """Every row planned or refused, and the units, people and indicators to create."""

    sheet: Sheet
    planned: list[PlannedRow] = field(default_factory=list)
    new_units: dict[str, str] = field(default_factory=dict)  # name → parent name or ""
    new_people: dict[str, str] = field(default_factory=dict)  # name → unit name
    new_indicators: dict[str, tuple[str, bool]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    absent: int = 0

    def preview(self, file_name: str, campaign_id: int) -> ImportPreview:
        return ImportPreview(
            file_name=file_name,
            campaign_id=campaign_id,
            rows=len(self.sheet.rows),
            new_tasks=sum(1 for p in self.planned if p.task is None),
            updated_tasks=sum(1 for p in self.planned if p.task is not None and p.changes),
            unchanged_tasks=sum(1 for p in self.planned if p.task is not None and not p.changes),
            new_units=tuple(self.new_units),
            new_people=tuple(self.new_people),
            new_indicators=tuple(self.new_indicators),
            absent_tasks=self.absent,
            errors=tuple(sorted(self.errors, key=lambda e: e.row)),
            warnings=tuple(sorted(self.warnings, key=lambda e: e.row)),
        )


async def load_snapshot(session: AsyncSession) -> Snapshot:
    campaign = await campaigns_repo.active_campaign(session=session)
    if campaign is None:
        raise InvalidInput("tables.no_campaign")
    units = await people_repo.all_units(session=session)
    everyone = await people_repo.all_persons(session=session)
    people: dict[str, list[Person]] = {}
    for person in everyone:
        if person.is_active:
            people.setdefault(person.name, []).append(person)
    indicators = await people_repo.all_indicators(session=session)
    tasks = await imports_repo.tasks_of_campaign_plain(session=session, campaign_id=campaign.id)
    partners = await imports_repo.partners_of_campaign(session=session, campaign_id=campaign.id)
    return Snapshot(
        campaign=campaign,
        phases={p.name: p for p in campaign.phases},
        units={u.name: u for u in units},
        unit_names={u.id: u.name for u in units},
        people=people,
        person_names={p.id: p.name for p in everyone},
        inactive={(p.unit_id, p.name) for p in everyone if not p.is_active},
        indicators={i.code: i for i in indicators},
        indicator_codes={i.id: i.code for i in indicators},
        tasks={t.key: t for t in tasks},
        partners=partners,
    )


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""


class _Planner:
    """Resolves every row against the snapshot; collects what the import would create."""

    def __init__(self, snap: Snapshot, sheet: Sheet, options: ImportOptions,
                 now: datetime | None) -> None:
        self.snap = snap
        self.sheet = sheet
        self.options = options
        self.now = now
        self.plan = ImportPlan(sheet)
        self.first_row_of_key: dict[str, int] = {}

    def error(self, row: int, column: Column, message_id: str, **params: object) -> None:
        self.plan.errors.append(RowError(row, self.sheet.label(column), message_id, params))

    def unknown_unit(self, row: int, column: Column, name: str) -> None:
        """Strict roster: a unit the campaign does not have, with the name it likely meant."""
        guess = nearest_name(name, self.snap.units)
        if guess is None:
            self.error(row, column, "tables.err.unknown_unit", name=name)
        else:
            self.error(row, column, "tables.err.unknown_unit_guess", name=name, guess=guess)

    def known_or_new_unit(self, row: int, column: Column, name: str, parent: str = ""
                          ) -> Ref | None:
        existing = self.snap.units.get(name)
        if existing is not None:
            return existing.id
        if name in self.plan.new_units:
            return name
        if not self.options.create_units:
            self.unknown_unit(row, column, name)
            return None
        self.plan.new_units[name] = parent
        return name

    def unit(self, row: TableRow) -> Ref | None:
        existing = self.snap.units.get(row.unit)
        if existing is not None:
            # The parent column only places units the import creates; moving an existing
            # unit in the tree is the setup file's job.
            return existing.id
        if row.parent_unit and self.known_or_new_unit(
                row.number, Column.PARENT_UNIT, row.parent_unit) is None:
            return None
        return self.known_or_new_unit(row.number, Column.UNIT, row.unit, row.parent_unit)

    def partners(self, row: TableRow) -> tuple[Ref, ...] | None:
        refs = [self.known_or_new_unit(row.number, Column.PARTNERS, name)
                for name in row.partners]
        found = tuple(ref for ref in refs if ref is not None)
        return found if len(found) == len(refs) else None

    def leader(self, row: TableRow) -> tuple[bool, int | None]:
        """Whether the leader is known, and who (None when the row names nobody).

        Never created: a table must not put a new name in the leading group; leaders
        come from the roster (the campaign file)."""
        if not row.leader:
            return True, None
        found = self.snap.people.get(row.leader, [])
        if len(found) > 1:
            leading = [p for p in found if p.role in (Role.LEADER, Role.ADMIN)]
            found = leading or found
        if len(found) == 1:
            return True, found[0].id
        if found:
            units = "、".join(self.snap.unit_names.get(p.unit_id or 0, "—") for p in found)
            self.error(row.number, Column.LEADER, "tables.err.ambiguous_owner",
                       name=row.leader, units=units)
            return False, None
        guess = nearest_name(row.leader, self.snap.people)
        if guess is None:
            self.error(row.number, Column.LEADER, "tables.err.unknown_leader", name=row.leader)
        else:
            self.error(row.number, Column.LEADER, "tables.err.unknown_leader_guess",
                       name=row.leader, guess=guess)
        return False, None

    def owner(self, row: TableRow, unit: Ref | None) -> Ref | None:
        found = self.snap.people.get(row.owner, [])
        in_unit = [p for p in found if p.unit_id == unit]
        if in_unit:
            return in_unit[0].id
        if len(found) == 1:
            return found[0].id
        if len(found) > 1:
            units = "、".join(self.snap.unit_names.get(p.unit_id or 0, "—") for p in found)
            self.error(row.number, Column.OWNER, "tables.err.ambiguous_owner",
                       name=row.owner, units=units)
            return None
        if row.owner in self.plan.new_people:
            return row.owner
        if (unit, row.owner) in self.snap.inactive:
            self.error(row.number, Column.OWNER, "tables.err.inactive_owner", name=row.owner)
            return None
        if not self.options.create_people:
            guess = nearest_name(row.owner, self.snap.people)
            if guess is None:
                self.error(row.number, Column.OWNER, "tables.err.unknown_owner", name=row.owner)
            else:
                self.error(row.number, Column.OWNER, "tables.err.unknown_owner_guess",
                           name=row.owner, guess=guess)
            return None
        if unit is None:
            return None  # the unit is refused already; the person would have nowhere to go
        self.plan.new_people[row.owner] = row.unit
        return row.owner

    def indicator(self, row: TableRow) -> Ref | None:
        if not row.indicator:
            return None
        existing = self.snap.indicators.get(row.indicator)
        if existing is not None:
            return existing.id
        self.plan.new_indicators.setdefault(
            row.indicator, (row.indicator_name or row.indicator, row.indicator_veto)
        )
        return row.indicator

    def phase(self, row: TableRow) -> tuple[bool, int | None]:
        """Whether the phase is known, and its id (None when the row names no phase)."""
        if not row.phase:
            return True, None
        phase = self.snap.phases.get(row.phase)
        if phase is None:
            names = "、".join(self.snap.phases) or "—"
            self.error(row.number, Column.PHASE, "tables.err.unknown_phase",
                       phase=row.phase, phases=names)
            return False, None
        return True, phase.id

    def add(self, row: TableRow) -> None:
        first = self.first_row_of_key.get(row.key)
        if first is not None:
            column = Column.KEY if self.sheet.has(Column.KEY) else Column.TASK
            self.error(row.number, column, "tables.err.duplicate_key", first=first)
            return
        self.first_row_of_key[row.key] = row.number
        unit = self.unit(row)
        owner = self.owner(row, unit)
        partners = self.partners(row)
        leader_known, leader_id = self.leader(row)
        indicator = self.indicator(row)
        phase_known, phase_id = self.phase(row)
        if unit is None or owner is None or partners is None or not leader_known:
            return
        if not phase_known:
            return
        planned = PlannedRow(row, self.snap.tasks.get(row.key), unit, owner, indicator, phase_id,
                             partners, leader_id)
        if planned.task is not None:
            planned.changes = self.changes(planned.task, planned)
        self.plan.planned.append(planned)
        self.warn_past_deadline(planned)

    def warn_past_deadline(self, p: PlannedRow) -> None:
        """A deadline already past is accepted (the task is simply late at once), but the
        office should see it: often a year typed wrong. Only when the import sets it."""
        task = p.task
        if self.now is None or p.row.due_at >= self.now:
            return
        if task is not None and (task.due_at == p.row.due_at or not task.status.is_open):
            return
        self.plan.warnings.append(RowError(
            p.row.number, self.sheet.label(Column.DEADLINE), "tables.warn.past_deadline",
            {"when": _local(p.row.due_at, self.options.zone)},
        ))

    def changes(self, task: Task, p: PlannedRow) -> list[Change]:
        """Fields the table changes; a column the table lacks leaves its field alone."""
        snap, row, zone = self.snap, p.row, self.options.zone
        found: list[Change] = []

        def differs(name: str, old: object, new: object, old_text: str, new_text: str) -> None:
            if old != new:
                found.append(Change(name, old_text, new_text))

        def ref_name(ref: Ref | None, names: Mapping[int, str]) -> str:
            return "" if ref is None else ref if isinstance(ref, str) else names.get(ref, "")

        differs("title", task.title, row.title, task.title, row.title)
        differs("unit", task.unit_id, p.unit, snap.unit_names.get(task.unit_id, ""),
                ref_name(p.unit, snap.unit_names))
        differs("owner", task.owner_id, p.owner, snap.person_names.get(task.owner_id or 0, ""),
                ref_name(p.owner, snap.person_names))
        differs("due_at", task.due_at, row.due_at, _local(task.due_at, zone),
                _local(row.due_at, zone))
        if self.sheet.has(Column.INDICATOR):
            differs("indicator", task.indicator_id, p.indicator,
                    snap.indicator_codes.get(task.indicator_id or 0, ""),
                    ref_name(p.indicator, snap.indicator_codes))
        if self.sheet.has(Column.PHASE):
            phase_names = {ph.id: name for name, ph in snap.phases.items()}
            differs("phase", task.phase_id, p.phase_id, phase_names.get(task.phase_id or 0, ""),
                    row.phase)
        if self.sheet.has(Column.EVIDENCE) or self.sheet.has(Column.EVIDENCE_LIST):
            differs("evidence_required", task.evidence_required, row.evidence_required,
                    str(task.evidence_required), str(row.evidence_required))
        if self.sheet.has(Column.EVIDENCE_LIST):
            differs("evidence_items", list(task.evidence_items), list(row.evidence_items),
                    "、".join(task.evidence_items), "、".join(row.evidence_items))
        if self.sheet.has(Column.PARTNERS):
            old = snap.partners.get(task.id, ())
            differs("partners", old, p.partners,
                    "、".join(ref_name(u, snap.unit_names) for u in old),
                    "、".join(ref_name(u, snap.unit_names) for u in p.partners))
        if self.sheet.has(Column.LEADER):
            differs("leader", task.leader_id, p.leader_id,
                    snap.person_names.get(task.leader_id or 0, ""), row.leader)
        if self.sheet.has(Column.DESCRIPTION):
            differs("description", task.description, row.description, task.description,
                    row.description)
        if self.sheet.has(Column.PRIORITY):
            differs("priority", task.priority, row.priority,
                    PRIORITY_LABELS.get(task.priority, str(task.priority)),
                    PRIORITY_LABELS[row.priority])
        return found


def plan_import(
    snap: Snapshot, sheet: Sheet, options: ImportOptions, now: datetime | None = None
) -> ImportPlan:
    """Resolve every row of the sheet against the snapshot; writes nothing. Given `now`,
    deadlines the import sets in the past are listed as warnings."""
    planner = _Planner(snap, sheet, options, now)
    for raw in sheet.rows:
        converted = convert_row(
            sheet, raw, zone=options.zone, default_due_time=options.default_due_time
        )
        if isinstance(converted, list):
            planner.plan.errors.extend(converted)
            # An explicit key still counts, so a later row repeating it is reported too.
            key = text_of(raw.cells.get(Column.KEY))
            if key:
                planner.first_row_of_key.setdefault(key, raw.number)
        else:
            planner.add(converted)
    named = planner.first_row_of_key
    planner.plan.absent = sum(
        1 for key, task in snap.tasks.items()
        if key not in named and task.status is not TaskStatus.CANCELLED
    )
    return planner.plan
