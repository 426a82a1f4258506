"""Manual assignment of annotators and reviewers to tasks."""

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.bulk import among
from app.db.models import ProjectMember, Task, TaskAssignment
from app.domain.errors import Invalid
from app.domain.roles import Actor
from app.domain.task_query import TaskQuery
from app.services.projects import get_managed_project
from app.services.tasks import filtered_tasks

KINDS = ("AN", "RE")


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise Invalid("type must be AN (annotators) or RE (reviewers)", field="type")
    return kind


async def assign(
    session: AsyncSession, actor: Actor, project_id: int, user_ids: list[int], query: TaskQuery, kind: str
) -> int:
    """Assign project members to the selected tasks; returns how many assignments were added."""
    project = await get_managed_project(session, actor, project_id)
    members = set(
        await session.scalars(
            select(ProjectMember.user_id).where(
                ProjectMember.project_id == project.id, ProjectMember.user_id.in_(user_ids)
            )
        )
    )
    strangers = sorted(set(user_ids) - members)
    if strangers:
        raise Invalid(f"add these users to the project before assigning them: {strangers}", field="users")
    task_ids = list(await session.scalars(filtered_tasks(project.id, query).with_only_columns(Task.id)))
    existing = set(
        await session.execute(
            select(TaskAssignment.task_id, TaskAssignment.user_id).where(
                TaskAssignment.project_id == project.id,
                TaskAssignment.kind == _kind(kind),
                among(TaskAssignment.task_id, task_ids),
            )
        )
    )
    new = [
        TaskAssignment(task_id=t, user_id=u, kind=kind, project_id=project.id)
        for t in task_ids
        for u in user_ids
        if (t, u) not in existing
    ]
    session.add_all(new)
    await session.flush()
    return len(new)


async def unassign(session: AsyncSession, actor: Actor, project_id: int, query: TaskQuery, kind: str) -> int:
    """Remove every assignment of this kind from the selected tasks."""
    project = await get_managed_project(session, actor, project_id)
    selected = filtered_tasks(project.id, query).with_only_columns(Task.id).scalar_subquery()
    result = await session.execute(
        delete(TaskAssignment).where(
            TaskAssignment.project_id == project.id,
            TaskAssignment.kind == _kind(kind),
            TaskAssignment.task_id.in_(selected),
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
