"""The label stream: which task an annotator gets next, reserved so overlap is never exceeded.

The rules are those of `app.domain.label_stream`; here they are one indexed query per pick. The
chosen task row is locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises writers),
then its free slots are counted again under the lock, because every writer of a task's slots
(reserving, submitting) locks that row first: the count is exact and the invariant holds.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, distinct, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Annotation, ProjectMember, Task, TaskAssignment, TaskReservation
from app.domain.errors import Conflict
from app.domain.label_stream import annotator_limit
from app.domain.project_settings import ProjectSettings
from app.domain.roles import PROJECT_ROLES, Actor, project_role
from app.domain.task_state import SkipQueue
from app.services.projects import get_project, settings_of

PICK_ATTEMPTS = 8


@dataclass
class Served:
    """A task and why it came, or no task and why not."""

    task: Task | None
    reason: str


def counted_users(task_id: Any, skip_queue: SkipQueue, *, besides: int | None = None) -> Any:
    """Distinct users whose annotations fill a slot: submits, and skips under "ignore skipped".

    Ground-truth annotations never fill a slot.
    """
    condition = and_(Annotation.task_id == task_id, Annotation.ground_truth.is_(False))
    if skip_queue is not SkipQueue.IGNORE:
        condition = condition & Annotation.was_cancelled.is_(False)
    if besides is not None:
        condition = condition & (Annotation.completed_by_id != besides)
    return select(func.count(distinct(Annotation.completed_by_id))).where(condition).scalar_subquery()


def live_reservations(task_id: Any, now: datetime, *, besides: int) -> Any:
    return (
        select(func.count(TaskReservation.id))
        .where(
            TaskReservation.task_id == task_id,
            TaskReservation.expires_at > now,
            TaskReservation.user_id != besides,
        )
        .scalar_subquery()
    )


def has_room(user_id: int, skip_queue: SkipQueue, now: datetime) -> Any:
    """The task still has a slot for this user: live reservations + counted users < overlap."""
    taken = live_reservations(Task.id, now, besides=user_id) + counted_users(
        Task.id, skip_queue, besides=user_id
    )
    return taken < Task.overlap


def _ordering(settings: ProjectSettings) -> list[Any]:
    """Show ground truth first and show overlap first, then the ordering method."""
    order: list[Any] = []
    quality = settings.quality
    if quality.show_ground_truth_first:
        ground_truth = exists().where(Annotation.task_id == Task.id, Annotation.ground_truth)
        order.append(ground_truth.desc())
    if quality.show_overlap_first and quality.coverage_percent < 100:
        order.append(Task.overlap.desc())
    if settings.annotation.ordering == "random":
        order.append(Task.random_key)
    order.append(Task.id)
    return order


async def _member(session: AsyncSession, project_id: int, user_id: int) -> ProjectMember | None:
    return await session.scalar(
        select(ProjectMember).where(ProjectMember.project_id == project_id, ProjectMember.user_id == user_id)
    )


async def _blocked(
    session: AsyncSession, actor: Actor, project_id: int, task_count: int, settings: ProjectSettings
) -> str | None:
    """Pauses and the tasks-per-annotator limit apply to annotators and reviewers only."""
    member = await _member(session, project_id, actor.user_id)
    if project_role(actor.role, member.role if member else None) not in PROJECT_ROLES:
        return None
    if member is not None and member.is_paused:
        return f"You are paused in this project: {member.pause_reason or 'ask a manager'}"
    limit = annotator_limit(settings, task_count)
    if limit is None:
        return None
    worked = await session.scalar(
        select(func.count(distinct(Annotation.task_id))).where(
            Annotation.project_id == project_id, Annotation.completed_by_id == actor.user_id
        )
    )
    if (worked or 0) >= limit:
        return f"You are paused in this project: you reached the limit of {limit} tasks per annotator"
    return None


async def next_task(session: AsyncSession, actor: Actor, project_id: int, now: datetime) -> Served:
    """Resume the caller's live reservation, else pick, lock and reserve the next task."""
    project = await get_project(session, actor, project_id)
    settings = settings_of(project)
    blocked = await _blocked(session, actor, project.id, project.task_count, settings)
    if blocked:
        return Served(None, blocked)
    if settings.annotation.assignment == "manual":
        return await _next_assigned(session, actor.user_id, project.id, settings)
    ttl = timedelta(minutes=settings.annotation.reservation_minutes)
    own = await session.scalar(
        select(TaskReservation)
        .where(
            TaskReservation.project_id == project.id,
            TaskReservation.user_id == actor.user_id,
            TaskReservation.expires_at > now,
            ~exists().where(
                Annotation.task_id == TaskReservation.task_id, Annotation.completed_by_id == actor.user_id
            ),
        )
        .order_by(TaskReservation.id.desc())
    )
    if own is not None:
        own.expires_at = now + ttl
        return Served(await session.get_one(Task, own.task_id), "reservation")
    for query, reason in _queues(actor.user_id, project.id, settings, now):
        picked = await _pick(session, query, actor.user_id, settings.effective_skip_queue(), now)
        if picked is not None:
            await _reserve(session, picked, actor.user_id, now + ttl)
            return Served(picked, reason)
    return Served(None, "There are no more tasks for you in this project.")


def _queues(user_id: int, project_id: int, settings: ProjectSettings, now: datetime) -> list[tuple[Any, str]]:
    """The fresh queue, then (requeue to me) the user's skipped tasks, oldest skip first."""
    skip_queue = settings.effective_skip_queue()
    mine = Annotation.task_id == Task.id
    fresh = (
        select(Task)
        .where(
            Task.project_id == project_id,
            Task.is_labeled.is_(False),
            ~exists().where(mine, Annotation.completed_by_id == user_id),
            has_room(user_id, skip_queue, now),
        )
        .order_by(*_ordering(settings))
    )
    queues = [(fresh, "order")]
    if skip_queue is SkipQueue.REQUEUE_TO_ME:
        last_skip = (
            select(func.max(Annotation.created_at))
            .where(mine, Annotation.completed_by_id == user_id, Annotation.was_cancelled)
            .scalar_subquery()
        )
        skipped = (
            select(Task)
            .where(
                Task.project_id == project_id,
                last_skip.is_not(None),
                ~exists().where(
                    mine, Annotation.completed_by_id == user_id, Annotation.was_cancelled.is_(False)
                ),
                has_room(user_id, skip_queue, now),
            )
            .order_by(last_skip, Task.id)
        )
        queues.append((skipped, "requeued_skip"))
    return queues


async def _pick(
    session: AsyncSession, query: Any, user_id: int, skip_queue: SkipQueue, now: datetime
) -> Task | None:
    """Lock the first candidate nobody else holds and confirm it still has room under the lock."""
    refused: list[int] = []
    for _ in range(PICK_ATTEMPTS):
        narrowed = query.where(Task.id.not_in(refused)) if refused else query
        task: Task | None = await session.scalar(
            narrowed.limit(1)
            .with_for_update(of=Task, skip_locked=True)
            .execution_options(populate_existing=True)
        )
        if task is None:
            return None
        if await room_left(session, task, user_id, skip_queue, now):
            return task
        refused.append(task.id)
    return None


async def room_left(
    session: AsyncSession, task: Task, user_id: int, skip_queue: SkipQueue, now: datetime
) -> bool:
    """Recount a locked task's slots in a fresh statement: exact, since every slot writer locks the row."""
    taken = await session.scalar(
        select(
            live_reservations(task.id, now, besides=user_id)
            + counted_users(task.id, skip_queue, besides=user_id)
        )
    )
    return (taken or 0) < task.overlap


async def _reserve(session: AsyncSession, task: Task, user_id: int, expires_at: datetime) -> None:
    """One reservation per annotator per project: taking a task moves it."""
    await session.execute(
        delete(TaskReservation).where(
            TaskReservation.project_id == task.project_id, TaskReservation.user_id == user_id
        )
    )
    session.add(
        TaskReservation(task_id=task.id, project_id=task.project_id, user_id=user_id, expires_at=expires_at)
    )
    await session.flush()


async def _next_assigned(
    session: AsyncSession, user_id: int, project_id: int, settings: ProjectSettings
) -> Served:
    """Manual assignment: only the user's assigned tasks, by id, without reservations."""
    mine = and_(Annotation.task_id == Task.id, Annotation.completed_by_id == user_id)
    assigned = exists().where(
        TaskAssignment.task_id == Task.id, TaskAssignment.user_id == user_id, TaskAssignment.kind == "AN"
    )
    base = select(Task).where(Task.project_id == project_id, assigned).order_by(Task.id).limit(1)
    fresh = await session.scalar(base.where(~exists().where(mine)))
    if fresh is not None:
        return Served(fresh, "assigned")
    if settings.effective_skip_queue() is SkipQueue.REQUEUE_TO_ME:
        skipped = await session.scalar(base.where(~exists().where(mine, Annotation.was_cancelled.is_(False))))
        if skipped is not None:
            return Served(skipped, "requeued_skip")
    return Served(None, "There are no more tasks assigned to you in this project.")


async def check_slot(
    session: AsyncSession, task: Task, user_id: int, skip_queue: SkipQueue, now: datetime
) -> None:
    """A submit fits when the user holds a live reservation or a slot is still free (T04)."""
    reserved = await session.scalar(
        select(TaskReservation.id).where(
            TaskReservation.task_id == task.id,
            TaskReservation.user_id == user_id,
            TaskReservation.expires_at > now,
        )
    )
    if reserved is None and not await room_left(session, task, user_id, skip_queue, now):
        raise Conflict(
            "Your reservation of this task expired and other annotators filled it; "
            "your work was not saved as an annotation. Take the next task."
        )
