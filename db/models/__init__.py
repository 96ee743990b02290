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
    TaskPartner,
    TaskStatus,
    Unit,
    UnitKind,
)
from db.models.evidence import Evidence, EvidenceInbox, EvidenceKind, EvidenceStatus, UploadTarget
from db.models.indicators import (
    BudgetFigures,
    DisabledEnrolmentFigures,
    FigurePart,
    ImprovementPlan,
    IndicatorImport,
    IndicatorLink,
    IndicatorSettings,
    School,
    SchoolEditPrompt,
    SchoolFigure,
    SchoolFigureChange,
    SchoolLevel,
    SelfAssessmentMark,
    SurveyResult,
)
from db.models.quiz import (
    Question,
    QuestionKind,
    QuizCard,
    QuizPoll,
    QuizPreference,
    QuizReview,
    QuizSession,
    SessionKind,
)
from db.models.reminders import (
    OutboxMessage,
    OutboxState,
    ReminderCursor,
    ReminderPolicyOverride,
    ReminderPolicySeen,
    ReminderSnooze,
)
from db.models.reports import BulletinLog
from db.models.tallies import TaskTally, TaskTallyMark

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
    "TaskPartner",
    "TaskStatus",
    "Unit",
    "UnitKind",
    "UploadTarget",
]
__all__ += [
    "Question",
    "QuestionKind",
    "QuizCard",
    "QuizPoll",
    "QuizPreference",
    "QuizReview",
    "QuizSession",
    "SessionKind",
]
__all__ += [
    "OutboxMessage",
    "OutboxState",
    "ReminderCursor",
    "ReminderPolicyOverride",
    "ReminderPolicySeen",
    "ReminderSnooze",
]
__all__ += ["BulletinLog", "TaskTally", "TaskTallyMark"]
__all__ += [
    "BudgetFigures",
    "DisabledEnrolmentFigures",
    "FigurePart",
    "ImprovementPlan",
    "IndicatorImport",
    "IndicatorLink",
    "IndicatorSettings",
    "School",
    "SchoolEditPrompt",
    "SchoolFigure",
    "SchoolFigureChange",
    "SchoolLevel",
    "SelfAssessmentMark",
    "SurveyResult",
]
