"""Project members: who works in a project, with an optional project-level role."""

from dataclasses import dataclass

from sqlalchemy import and_, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import Membership, Project, ProjectMember, TaskReservation, User
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.label_stream import failed_evaluation
from app.domain.project_settings import ProjectSettings
from app.domain.roles import PROJECT_ROLES, Actor, Role, project_role
from app.services.projects import get_managed_project, get_project, settings_of


@dataclass
class MemberView:
    user: User
    member: ProjectMember
    pause_reason: str  # why they are paused, by a manager or by evaluation; "" when they are not


async def list_members(session: AsyncSession, actor: Actor, project_id: int) -> list[MemberView]:
    project = await get_project(session, actor, project_id)
    settings = settings_of(project)
    rows = await session.execute(
        select(User, ProjectMember, Membership.role)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .outerjoin(
            Membership,
            and_(Membership.user_id == User.id, Membership.organization_id == project.organization_id),
        )
        .where(ProjectMember.project_id == project.id)
        .order_by(User.id)
    )
    return [
        MemberView(user, member, pause_reason(settings, member, Role(role or Role.ANNOTATOR)) or "")
        for user, member, role in rows
    ]


def pause_reason(settings: ProjectSettings, member: ProjectMember, org_role: Role) -> str | None:
    """Why a member may not work in the project, paused by a manager or by evaluation, or None."""
    if member.is_paused and project_role(org_role, member.role) in PROJECT_ROLES:
        return member.pause_reason or "paused by a manager"
    return evaluation_pause(settings, member, org_role)


def evaluation_pause(settings: ProjectSettings, member: ProjectMember, org_role: Role) -> str | None:
    """Why annotator evaluation pauses the member, or None. Pauses apply to annotators and reviewers
    only: "Users in the Manager, Administrator, or Owner role are unaffected"."""
    if project_role(org_role, member.role) not in PROJECT_ROLES:
        return None
    return failed_evaluation(settings, member.evaluation_score, member.evaluation_tasks)


async def _org_role(session: AsyncSession, project: Project, user_id: int) -> str | None:
    """The user's role in the project's organization; None when they are not in it."""
    return await session.scalar(
        select(Membership.role).where(
            Membership.user_id == user_id, Membership.organization_id == project.organization_id
        )
    )


async def add_member(
    session: AsyncSession, actor: Actor, project_id: int, user_id: int, role: str | None = None
) -> ProjectMember:
    """Add a user of the same organization; a role override is only for annotators and reviewers."""
    project = await get_managed_project(session, actor, project_id)
    org_role = await _org_role(session, project, user_id)
    if org_role is None:
        raise NotFound("No such user in this organization.", field="user")
    if role is not None and (role not in PROJECT_ROLES or Role(org_role) not in PROJECT_ROLES):
        raise Invalid(
            "a project role (annotator or reviewer) applies only to annotators and reviewers", field="role"
        )
    member = await session.scalar(
        select(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user_id)
    )
    if member is None:
        member = ProjectMember(project_id=project.id, user_id=user_id)
        session.add(member)
    member.role = role
    await session.flush()
    return member


async def remove_member(session: AsyncSession, actor: Actor, project_id: int, user_id: int) -> None:
    project = await get_managed_project(session, actor, project_id)
    await session.execute(
        delete(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user_id)
    )


async def set_paused(
    session: AsyncSession, actor: Actor, project_id: int, user_id: int, *, paused: bool, reason: str
) -> ProjectMember:
    """A manager pauses or unpauses a member; a paused member's reservations are released at once."""
    project = await get_managed_project(session, actor, project_id)
    member = await session.scalar(
        select(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user_id)
    )
    if member is None:
        raise NotFound("This user is not a member of the project.", field="user")
    org_role = await _org_role(session, project, user_id)
    failed = evaluation_pause(settings_of(project), member, Role(org_role or Role.ANNOTATOR))
    if not paused and failed:
        raise Conflict(
            f"This member is paused by annotator evaluation: {failed}. "
            "To unpause them, relax the evaluation settings (a lower score required or more tasks "
            "for evaluation)."
        )
    member.is_paused = paused
    member.pause_reason = reason if paused else ""
    member.pause_kind = "manual" if paused else None
    member.paused_at = utcnow() if paused else None
    if paused:
        await session.execute(
            delete(TaskReservation).where(
                TaskReservation.project_id == project.id, TaskReservation.user_id == user_id
            )
        )
    await session.flush()
    return member
