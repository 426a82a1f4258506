"""Every table of Quorum, imported here so metadata is complete."""

from app.db.models.accounts import ApiToken, Membership, Organization, User, Workspace, WorkspaceMember
from app.db.models.annotations import Annotation, Draft, Prediction, Review
from app.db.models.export_snapshots import ExportFormat, ExportSnapshot
from app.db.models.imports import ProjectImport
from app.db.models.projects import Project, ProjectMember
from app.db.models.tasks import ProjectTotals, Task, TaskAssignment, TaskReservation

__all__ = [
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
    "TaskReservation",
    "User",
    "Workspace",
    "WorkspaceMember",
]
