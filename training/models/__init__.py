"""Training's models, one file per concern, re-exported so the app label stays `training`."""

from training.models.assignments import (
    DUE_SOON_DAYS,
    Assignment,
    AssignmentQuerySet,
    AssignmentRule,
    ExemptionRequest,
    Status,
)
from training.models.audiences import Audience, AudienceForm
from training.models.imports import CompletionImport
from training.models.pages import LessonPage, ModuleIndexPage, ModulePage, ModuleTopic, SignedInPage
from training.models.records import (
    CompletionSource,
    LessonProgress,
    ModuleCompletion,
    ModuleVersion,
    QuizPass,
    RetakeRequest,
)
from training.models.reminders import ReminderSettings, SentMessage
from training.models.reports import (
    ComplianceCount,
    ComplianceWeek,
    PackSettings,
    ReportExport,
    ReportSettings,
    ScheduledReport,
    SnapshotGroup,
)
from training.models.toolbox import ToolboxAttendance, ToolboxPresence, ToolboxSession

__all__ = [
    "DUE_SOON_DAYS",
    "Assignment",
    "AssignmentQuerySet",
    "AssignmentRule",
    "Audience",
    "AudienceForm",
    "CompletionImport",
    "CompletionSource",
    "ComplianceCount",
    "ComplianceWeek",
    "ExemptionRequest",
    "LessonPage",
    "LessonProgress",
    "ModuleCompletion",
    "ModuleIndexPage",
    "ModulePage",
    "ModuleTopic",
    "ModuleVersion",
    "PackSettings",
    "QuizPass",
    "ReminderSettings",
    "ReportExport",
    "ReportSettings",
    "RetakeRequest",
    "ScheduledReport",
    "SentMessage",
    "SignedInPage",
    "SnapshotGroup",
    "Status",
    "ToolboxAttendance",
    "ToolboxPresence",
    "ToolboxSession",
]
