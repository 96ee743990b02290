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
from db.models.evidence import Evidence, EvidenceInbox, EvidenceKind, EvidenceStatus, UploadTarget

__all__ = [
    "Campaign",
    "Evidence",
    "EvidenceInbox",
    "EvidenceKind",
    "EvidenceStatus",
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
    "UploadTarget",
]
