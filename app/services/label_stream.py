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
from sqlalchemy.orm import aliased

from app.db.models import (
    Annotation,
    Draft,
    Prediction,
    Project,
    ProjectMember,
    Task,
    TaskAssignment,
    TaskReservation,
)
from app.domain.errors import NotFound
from app.domain.label_stream import annotator_limit
from app.domain.project_settings import ProjectSettings
from app.domain.roles import PROJECT_ROLES, Actor, project_role
from app.domain.task_state import SkipQueue
from app.services.projects import settings_of, visible_projects

PICK_ATTEMPTS = 8


@dataclass
class Served:
    """A task and why it came, or no task and why not."""

    task: Task | None
    reason: str
    drafted: frozenset[int] = frozenset()  # tasks with the user's drafts, so callers skip a lookup


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


def assigned_slots(task_id: Any, now: datetime, *, besides: int) -> Any:
    """Assignees (left from manual assignment) hold a slot until they work on the task; one who
    also holds a live reservation is counted there already."""
    assignee = TaskAssignment.user_id
    return (
        select(func.count())
        .select_from(TaskAssignment)
        .where(
            TaskAssignment.task_id == task_id,
            TaskAssignment.kind == "AN",
            assignee != besides,
            ~exists().where(Annotation.task_id == task_id, Annotation.completed_by_id == assignee),
            ~exists().where(
                TaskReservation.task_id == task_id,
                TaskReservation.user_id == assignee,
                TaskReservation.expires_at > now,
            ),
        )
        .scalar_subquery()
    )


def slots_taken(task_id: Any, skip_queue: SkipQueue, now: datetime, *, besides: int) -> Any:
    """Slots of the task held by others: live reservations, counted users and assignees."""
    return (
        live_reservations(task_id, now, besides=besides)
        + counted_users(task_id, skip_queue, besides=besides)
        + assigned_slots(task_id, now, besides=besides)
    )


def holds_slot(task_id: Any, user_id: int, now: datetime) -> Any:
    """The user holds a slot already (a live reservation, or an assignment): they keep it."""
    reserved = exists().where(
        TaskReservation.task_id == task_id,
        TaskReservation.user_id == user_id,
        TaskReservation.expires_at > now,
    )
    assigned = exists().where(
        TaskAssignment.task_id == task_id, TaskAssignment.user_id == user_id, TaskAssignment.kind == "AN"
    )
    return reserved | assigned


def has_room(user_id: int, skip_queue: SkipQueue, now: datetime) -> Any:
    """The task still has a slot for this user: others hold fewer than its overlap, or they hold one."""
    taken = slots_taken(Task.id, skip_queue, now, besides=user_id)
    return (taken < Task.overlap) | holds_slot(Task.id, user_id, now)


def _tiers(settings: ProjectSettings) -> list[Any]:
    """Show ground truth first and show overlap first: they come before the ordering method."""
    order: list[Any] = []
    quality = settings.quality
    if quality.show_ground_truth_first:
        ground_truth = exists().where(Annotation.task_id == Task.id, Annotation.ground_truth)
        order.append(ground_truth.desc())
    if quality.show_overlap_first and quality.coverage_percent < 100:
        order.append(Task.overlap.desc())
    return order


def _scored(settings: ProjectSettings, project_id: int) -> Any:
    """Predictions that rank a task for uncertainty sampling: scored, of the selected model version
    (any version when none is selected)."""
    condition = (Prediction.project_id == project_id) & Prediction.score.is_not(None)
    if version := settings.annotation.predictions_source:
        condition = condition & (Prediction.model_version == version)
    return condition


def _ordered(query: Any, project_id: int, settings: ProjectSettings) -> list[tuple[Any, str]]:
    """The eligible tasks in the stream's order, as one or more queries tried in turn.

    Uncertainty sampling puts the least confident prediction first and tasks without one after.
    Without a tier that is two queries, each served by an index: tasks walked through the
    predictions' (project, model version, score) index, then unscored tasks by id. With a tier the
    tier must lead, so one query orders by tier then by each task's lowest score.
    """
    tiers = _tiers(settings)
    ordering = settings.annotation.ordering
    if ordering == "random":
        return [(query.order_by(*tiers, Task.random_key, Task.id), "order")]
    if ordering != "uncertainty":
        return [(query.order_by(*tiers, Task.id), "order")]
    scored = _scored(settings, project_id) & (Prediction.task_id == Task.id)
    if tiers:
        score = select(func.min(Prediction.score)).where(scored).scalar_subquery()
        return [(query.order_by(*tiers, score.is_(None), score, Task.id), "order")]
    by_score = query.join(Prediction, scored).order_by(Prediction.score, Task.id)
    unscored = query.where(~exists().where(scored)).order_by(Task.id)
    return [(by_score, "order"), (unscored, "order")]


async def _project_and_member(
    session: AsyncSession, actor: Actor, project_id: int
) -> tuple[Project, ProjectMember | None]:
    """The project the actor may see and their membership row, in one query."""
    member = aliased(ProjectMember)  # apart from the one `visible_projects` correlates
    row = (
        await session.execute(
            select(Project, member)
            .outerjoin(member, and_(member.project_id == Project.id, member.user_id == actor.user_id))
            .where(Project.id == project_id, visible_projects(actor))
        )
    ).first()
    if row is None:
        raise NotFound("Not found.")
    return row[0], row[1]


async def _blocked(
    session: AsyncSession,
    actor: Actor,
    member: ProjectMember | None,
    project: Project,
    settings: ProjectSettings,
) -> str | None:
    """Pauses and the tasks-per-annotator limit apply to annotators and reviewers only."""
    if project_role(actor.role, member.role if member else None) not in PROJECT_ROLES:
        return None
    if member is not None and member.is_paused:
        return f"You are paused in this project: {member.pause_reason or 'ask a manager'}"
    limit = annotator_limit(settings, project.task_count)
    if limit is None:
        return None
    if await _worked(session, project.id, actor.user_id) >= limit:
        return f"You are paused in this project: you reached the limit of {limit} tasks per annotator"
    return None


async def next_task(session: AsyncSession, actor: Actor, project_id: int, now: datetime) -> Served:
    """Resume the caller's live reservation, else pick, lock and reserve the next task."""
    project, member = await _project_and_member(session, actor, project_id)
    settings = settings_of(project)
    blocked = await _blocked(session, actor, member, project, settings)
    if blocked:
        return Served(None, blocked)
    drafted = await _drafted(session, project.id, actor.user_id)
    if settings.annotation.assignment == "manual":
        return await _next_assigned(session, actor.user_id, project.id, settings, drafted)
    ttl = timedelta(minutes=settings.annotation.reservation_minutes)
    own = await _own_reservation(session, project.id, actor.user_id)
    if own is not None and own.expires_at > now and not await _worked_on(session, own.task_id, actor.user_id):
        own.expires_at = now + ttl
        return Served(await session.get_one(Task, own.task_id), "reservation", drafted)
    for query, reason in _queues(actor.user_id, project.id, settings, now, drafted):
        picked = await _pick(session, query, actor.user_id, settings.effective_skip_queue(), now)
        if picked is not None:
            _reserve(session, own, picked, actor.user_id, now + ttl)
            return Served(picked, reason, drafted)
    return Served(None, "There are no more tasks for you in this project.")


async def _drafted(session: AsyncSession, project_id: int, user_id: int) -> frozenset[int]:
    """Tasks the user keeps a draft of: usually none, so asked once through the drafts' index."""
    rows = await session.scalars(
        select(Draft.task_id).where(Draft.project_id == project_id, Draft.user_id == user_id)
    )
    return frozenset(rows)


async def _own_reservation(session: AsyncSession, project_id: int, user_id: int) -> TaskReservation | None:
    """The user's latest reservation in the project, live or not (taking a task moves it)."""
    return await session.scalar(
        select(TaskReservation)
        .where(TaskReservation.project_id == project_id, TaskReservation.user_id == user_id)
        .order_by(TaskReservation.id.desc())
        .limit(1)
    )


async def _worked_on(session: AsyncSession, task_id: int, user_id: int) -> bool:
    annotated = exists().where(Annotation.task_id == task_id, Annotation.completed_by_id == user_id)
    return bool(await session.scalar(select(annotated)))


def _queues(
    user_id: int, project_id: int, settings: ProjectSettings, now: datetime, drafted: frozenset[int]
) -> list[tuple[Any, str]]:
    """A fresh task with the user's draft first (they resume it), then the fresh queue in the
    stream's order, then (requeue to me) the user's skipped tasks, oldest skip first."""
    fresh = _fresh(user_id, project_id, settings, now)
    queues = []
    if drafted:
        resumed = fresh.where(Task.id.in_(drafted))
        queues = [(query, "draft") for query, _ in _ordered(resumed, project_id, settings)]
    queues += _ordered(fresh, project_id, settings)
    if settings.effective_skip_queue() is SkipQueue.REQUEUE_TO_ME:
        skipped = _skipped(user_id, project_id, settings, now)
        queues.append((skipped.order_by(_last_skip(user_id), Task.id), "requeued_skip"))
    return queues


def _fresh(user_id: int, project_id: int, settings: ProjectSettings, now: datetime) -> Any:
    """Unlabeled tasks the user has not worked on that still have a slot for them."""
    return select(Task).where(
        Task.project_id == project_id,
        Task.is_labeled.is_(False),
        ~exists().where(Annotation.task_id == Task.id, Annotation.completed_by_id == user_id),
        has_room(user_id, settings.effective_skip_queue(), now),
    )


def _last_skip(user_id: int) -> Any:
    return (
        select(func.max(Annotation.created_at))
        .where(Annotation.task_id == Task.id, Annotation.completed_by_id == user_id, Annotation.was_cancelled)
        .scalar_subquery()
    )


def _skipped(user_id: int, project_id: int, settings: ProjectSettings, now: datetime) -> Any:
    """Tasks the user skipped and never submitted that still have a slot for them."""
    return select(Task).where(
        Task.project_id == project_id,
        _last_skip(user_id).is_not(None),
        ~exists().where(
            Annotation.task_id == Task.id,
            Annotation.completed_by_id == user_id,
            Annotation.was_cancelled.is_(False),
        ),
        has_room(user_id, settings.effective_skip_queue(), now),
    )


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
    taken, holds = (
        await session.execute(
            select(slots_taken(task.id, skip_queue, now, besides=user_id), holds_slot(task.id, user_id, now))
        )
    ).one()
    return bool(holds) or (taken or 0) < task.overlap


def _reserve(
    session: AsyncSession, own: TaskReservation | None, task: Task, user_id: int, expires_at: datetime
) -> None:
    """One reservation per annotator per project: taking a task moves the user's reservation row."""
    if own is None:
        own = TaskReservation(project_id=task.project_id, user_id=user_id)
        session.add(own)
    own.task_id = task.id
    own.expires_at = expires_at


def _assigned(user_id: int, project_id: int, settings: ProjectSettings) -> list[tuple[Any, str]]:
    """Manual assignment: the user's assigned tasks they have not worked on, then (requeue to me)
    the assigned tasks they skipped and never submitted."""
    mine = and_(Annotation.task_id == Task.id, Annotation.completed_by_id == user_id)
    assigned = exists().where(
        TaskAssignment.task_id == Task.id, TaskAssignment.user_id == user_id, TaskAssignment.kind == "AN"
    )
    base = select(Task).where(Task.project_id == project_id, assigned)
    queues = [(base.where(~exists().where(mine)), "assigned")]
    if settings.effective_skip_queue() is SkipQueue.REQUEUE_TO_ME:
        skipped = base.where(exists().where(mine), ~exists().where(mine, Annotation.was_cancelled.is_(False)))
        queues.append((skipped, "requeued_skip"))
    return queues


async def _next_assigned(
    session: AsyncSession, user_id: int, project_id: int, settings: ProjectSettings, drafted: frozenset[int]
) -> Served:
    """Manual assignment: by id, a drafted task first, without reservations."""
    queues = _assigned(user_id, project_id, settings)
    if drafted:
        queues.insert(0, (queues[0][0].where(Task.id.in_(drafted)), "draft"))
    for query, reason in queues:
        task = await session.scalar(query.order_by(Task.id).limit(1))
        if task is not None:
            return Served(task, reason, drafted)
    return Served(None, "There are no more tasks assigned to you in this project.")


async def queue_counters(
    session: AsyncSession, actor: Actor, project: Project, now: datetime
) -> dict[str, int]:
    """Label Studio's per-user `queue_total`, `queue_done`, `queue_left`, as the reference model's
    `progress` defines them: left is what the user may still be served (capped by their limit,
    nothing while paused), done is what they worked on and will not be served again."""
    settings = settings_of(project)
    user_id = actor.user_id
    if settings.annotation.assignment == "manual":
        queues = [query for query, _ in _assigned(user_id, project.id, settings)]
    else:
        queues = [_fresh(user_id, project.id, settings, now)]
        if settings.effective_skip_queue() is SkipQueue.REQUEUE_TO_ME:
            queues.append(_skipped(user_id, project.id, settings, now))
    counts = [await _count(session, query) for query in queues]
    worked = await _worked(session, project.id, user_id)
    left = sum(counts)
    member = await session.scalar(
        select(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user_id)
    )
    if await _blocked(session, actor, member, project, settings) is not None:
        left = 0
    elif (limit := annotator_limit(settings, project.task_count)) is not None:
        left = max(0, min(left, limit - worked))
    done = worked - sum(counts[1:])
    return {"queue_total": done + left, "queue_done": done, "queue_left": left}


async def _count(session: AsyncSession, query: Any) -> int:
    return (
        await session.scalar(select(func.count()).select_from(query.with_only_columns(Task.id).subquery()))
        or 0
    )


async def _worked(session: AsyncSession, project_id: int, user_id: int) -> int:
    """Distinct tasks the user annotated or skipped in the project."""
    worked = await session.scalar(
        select(func.count(distinct(Annotation.task_id))).where(
            Annotation.project_id == project_id, Annotation.completed_by_id == user_id
        )
    )
    return worked or 0


async def release(session: AsyncSession, task_id: int, user_id: int) -> datetime | None:
    """Drop the user's reservation of the task; when it ran until, None if they held none."""
    expires_at: datetime | None = await session.scalar(
        delete(TaskReservation)
        .where(TaskReservation.task_id == task_id, TaskReservation.user_id == user_id)
        .returning(TaskReservation.expires_at)
    )
    return expires_at


async def has_slot(
    session: AsyncSession, task: Task, user_id: int, skip_queue: SkipQueue, now: datetime, *, held: bool
) -> bool:
    """A submit fits when the user held a live reservation or a slot is still free (T04)."""
    return held or await room_left(session, task, user_id, skip_queue, now)
