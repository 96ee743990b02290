"""All mapped models; importing this package registers every table on `Base.metadata`."""

from db.models.core import (
    Campaign,
    Indicator,
    Invite,
    PendingImport,
    Person,
    Phase,
    Role,
    Task,
    TaskEvent,
    TaskStatus,
    Unit,
    UnitKind,
)

__all__ = [
    "Campaign",
    "Indicator",
    "Invite",
    "PendingImport",
    "Person",
    "Phase",
    "Role",
    "Task",
    "TaskEvent",
    "TaskStatus",
    "Unit",
    "UnitKind",
]
