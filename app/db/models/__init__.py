"""Every table of Quorum, imported here so metadata is complete."""

from app.db.models.accounts import ApiToken, Membership, Organization, User, Workspace, WorkspaceMember
from app.db.models.annotations import Annotation, Draft, Prediction, Review
from app.db.models.export_snapshots import ExportFormat, ExportSnapshot
from app.db.models.imports import ProjectImport
from app.db.models.projects import Project, ProjectMember
from app.db.models.tasks import TASK_BUCKET, ProjectTotals, Task, TaskAssignment, TaskBucket, TaskReservation

__all__ = [
    "TASK_BUCKET",
    "Annotation",
    "ApiToken",
    "Draft",
    "ExportFormat",
    "ExportSnapshot",
    "Membership",
    "Organization",
    "Prediction",
    "Project",
    "ProjectImport",
    "ProjectMember",
    "ProjectTotals",
    "Review",
    "Task",
    "TaskAssignment",
    "TaskBucket",
    "TaskReservation",
    "User",
    "Workspace",
    "WorkspaceMember",
]
