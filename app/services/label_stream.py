"""The label stream: which task an annotator gets next, reserved so overlap is never exceeded.

The rules are those of `app.domain.label_stream`; here they are one indexed query per pick. The
chosen task row is locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises writers),
then reserved by a statement that counts its free slots again under the lock, because every writer
of a task's slots (reserving, submitting) locks that row first: the count is exact and the
invariant holds.

The statements are built once per form (the settings that shape them) with bound parameters for
everything else: building a statement this size costs more than running it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, distinct, exists, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db import direct
from app.db.models import (
    Annotation,
    Draft,
    Prediction,
    Project,
    ProjectMember,
    ProjectTotals,
    Task,
    TaskAssignment,
    TaskReservation,
)
from app.domain.errors import NotFound
from app.domain.label_stream import annotator_limit
from app.domain.project_settings import ProjectSettings
from app.domain.roles import PROJECT_ROLES, Actor, project_role
from app.domain.task_state import SkipQueue
from app.services.members import pause_reason
from app.services.projects import counted_annotations, settings_of, visible_to

PICK_ATTEMPTS = 8

# The bound parameters; their types come from the columns they are compared with.
PROJECT: Any = bindparam("project")
ORGANIZATION: Any = bindparam("organization_id")
USER: Any = bindparam("user")
NOW: Any = bindparam("now")
TASK: Any = bindparam("task")
OVERLAP: Any = bindparam("overlap")
EXPIRES: Any = bindparam("expires_at")
VERSION: Any = bindparam("version")
DRAFTED: Any = bindparam("drafted", expanding=True)
REFUSED: Any = bindparam("refused", expanding=True)
# LIMIT 1 written out: as a bound parameter PostgreSQL plans for an unknown limit, finds its generic
# plan costlier than a custom one and plans the pick afresh at every call (0.6 ms, most of its cost)
ONE: Any = literal_column("1")


@dataclass
class Served:
    """A task and why it came, or no task and why not."""

    task: Task | None
    reason: str
    drafted: frozenset[int] = frozenset()  # tasks with the user's drafts, so callers skip a lookup


@dataclass(frozen=True)
class Form:
    """The settings that shape the stream's statements; the rest are bound parameters."""

    skip_queue: SkipQueue
    ordering: str
    ground_truth_first: bool
    overlap_first: bool
    by_version: bool
    evaluation: bool

    @classmethod
    def of(cls, settings: ProjectSettings, *, onboarding: bool = False) -> "Form":
        """`onboarding`: the user is still in onboarding evaluation (ground-truth tasks first)."""
        quality = settings.quality
        return cls(
            skip_queue=settings.effective_skip_queue(),
            ordering=settings.annotation.ordering,
            ground_truth_first=quality.show_ground_truth_first or onboarding,
            overlap_first=quality.show_overlap_first and quality.coverage_percent < 100,
            by_version=bool(settings.annotation.predictions_source),
            evaluation=quality.evaluation.enabled,
        )


def _params(project_id: int, user_id: int, now: datetime, settings: ProjectSettings) -> dict[str, Any]:
    return {
        "project": project_id,
        "user": user_id,
        "now": now,
        "version": settings.annotation.predictions_source,
        "drafted": [],
        "refused": [],
    }


def counted_users(task_id: Any, skip_queue: SkipQueue, *, besides: Any) -> Any:
    """Distinct users whose annotations fill a slot."""
    return (
        select(func.count(distinct(Annotation.completed_by_id)))
        .where(Annotation.task_id == task_id, Annotation.completed_by_id != besides)
        .where(*counted_annotations(skip_queue))
        .scalar_subquery()
    )


def live_reservations(task_id: Any, skip_queue: SkipQueue, *, besides: Any) -> Any:
    """Live reservations of users not counted already by an annotation: a skip under "requeue to
    me" keeps its reservation, and turns into a counted one when the skip queue becomes "ignore
    skipped"; that user holds one slot, not two."""
    counted = exists().where(
        Annotation.task_id == TaskReservation.task_id,
        Annotation.completed_by_id == TaskReservation.user_id,
        *counted_annotations(skip_queue),
    )
    return (
        select(func.count(TaskReservation.id))
        .where(
            TaskReservation.task_id == task_id,
            TaskReservation.expires_at > NOW,
            TaskReservation.user_id != besides,
            ~counted,
        )
        .scalar_subquery()
    )


def assigned_slots(task_id: Any, *, besides: Any) -> Any:
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
            # on the assignment's own task: `task_id` may be a column of the outer query, which
            # these inner queries would not correlate to
            ~exists().where(
                Annotation.task_id == TaskAssignment.task_id, Annotation.completed_by_id == assignee
            ),
            ~exists().where(
                TaskReservation.task_id == TaskAssignment.task_id,
                TaskReservation.user_id == assignee,
                TaskReservation.expires_at > NOW,
            ),
        )
        .scalar_subquery()
    )


def slots_taken(task_id: Any, skip_queue: SkipQueue) -> Any:
    """Slots of the task held by users other than USER: live reservations, counted users, assignees."""
    return (
        live_reservations(task_id, skip_queue, besides=USER)
        + counted_users(task_id, skip_queue, besides=USER)
        + assigned_slots(task_id, besides=USER)
    )


def holds_slot(task_id: Any) -> Any:
    """USER holds a slot already (a live reservation, or an assignment they have not worked on yet):
    they keep it."""
    reserved = exists().where(
        TaskReservation.task_id == task_id, TaskReservation.user_id == USER, TaskReservation.expires_at > NOW
    )
    assigned = exists().where(
        TaskAssignment.task_id == task_id,
        TaskAssignment.user_id == USER,
        TaskAssignment.kind == "AN",
        _unworked(task_id),
    )
    return reserved | assigned


def _unworked(task_id: Any, *conditions: Any) -> Any:
    """USER has no annotation of the task (meeting `conditions`).

    A scalar subquery probed per candidate through USER's annotations in the project's index: a bare
    NOT EXISTS the planner turns into an anti-join that reads USER's (or every) annotation from the
    start (170-230 ms against 0.5 ms per pick at 1M tasks). Wrapped so, the planner guesses it keeps
    half the candidates; as `(... LIMIT 1) IS NULL` it guessed 1 in 200, expected a few thousand
    tasks' projects to yield no candidate at all, and sorted every open task's checks to pick one.
    """
    mine = (
        exists()
        .where(
            Annotation.project_id == PROJECT,
            Annotation.completed_by_id == USER,
            Annotation.task_id == task_id,
            *conditions,
        )
        .correlate_except(Annotation)
    )
    return select(~mine).scalar_subquery()


def ground_truth(task_id: Any) -> Any:
    return exists().where(Annotation.task_id == task_id, Annotation.ground_truth)


def has_room(form: Form) -> Any:
    """The candidate task still has a slot for USER."""
    return room(Task.id, Task.overlap, form.skip_queue, evaluation=form.evaluation)


def room(task_id: Any, overlap: Any, skip_queue: SkipQueue, *, evaluation: bool) -> Any:
    """The task has a slot for USER: others hold fewer than its overlap, or USER holds one. Under
    annotator evaluation "ground truth tasks are not constrained by the annotator overlap"."""
    free = (slots_taken(task_id, skip_queue) < overlap) | holds_slot(task_id)
    return free | ground_truth(task_id) if evaluation else free


def _tiers(form: Form) -> list[Any]:
    """Show ground truth first and show overlap first: they come before the ordering method."""
    order: list[Any] = []
    if form.ground_truth_first:
        order.append(ground_truth(Task.id).desc())
    if form.overlap_first:
        order.append(Task.overlap.desc())
    return order


def _scored(form: Form) -> Any:
    """Predictions that rank a task for uncertainty sampling: scored, of the selected model version
    (any version when none is selected)."""
    condition = (Prediction.project_id == PROJECT) & Prediction.score.is_not(None)
    if form.by_version:
        condition = condition & (Prediction.model_version == VERSION)
    return condition & (Prediction.task_id == Task.id)


def _ordered(query: Any, form: Form) -> list[Any]:
    """The eligible tasks in the stream's order, as one or more queries tried in turn.

    Uncertainty sampling puts the least confident prediction first and tasks without one after.
    Without a tier that is two queries, each served by an index: tasks walked through the
    predictions' (project, model version, score) index, then unscored tasks by id. With a tier the
    tier must lead, so one query orders by tier then by each task's lowest score.
    """
    tiers = _tiers(form)
    if form.ordering == "random":
        return [query.order_by(*tiers, *_open_first(form), Task.random_key, Task.id)]
    by_id = [*_open_first(form), Task.id]
    if form.ordering != "uncertainty":
        return [query.order_by(*tiers, *by_id)]
    scored = _scored(form)
    if tiers:
        score = select(func.min(Prediction.score)).where(scored).scalar_subquery()
        return [query.order_by(*tiers, score.is_(None), score, Task.id)]
    by_score = query.join(Prediction, scored).order_by(Prediction.score, Task.id)
    return [by_score, query.where(~exists().where(scored)).order_by(*by_id)]


def _open_first(form: Form) -> list[Any]:
    """`is_labeled` to lead the order where only unlabeled tasks are eligible: a no-op that leaves one
    index able to give the order, the one that skips labeled tasks. Without it, statistics gathered
    before labeling began let the planner walk an index past every task labeled since, at every pick."""
    return [] if form.evaluation else [Task.is_labeled]


def _fresh(form: Form) -> Any:
    """Unlabeled tasks USER has not worked on that still have a slot for them (ground-truth tasks
    under evaluation, labeled or not)."""
    open_task = Task.is_labeled.is_(False)
    if form.evaluation:
        open_task = open_task | ground_truth(Task.id)
    return select(Task).where(
        Task.project_id == PROJECT,
        open_task,
        _unworked(Task.id),
        has_room(form),
    )


def _last_skip() -> Any:
    return (
        select(func.max(Annotation.created_at))
        .where(Annotation.task_id == Task.id, Annotation.completed_by_id == USER, Annotation.was_cancelled)
        .scalar_subquery()
    )


def _skipped(form: Form) -> Any:
    """Tasks USER skipped and never submitted that still have a slot for them (found through their
    own annotations, not a walk of the project's tasks)."""
    skips = select(Annotation.task_id).where(
        Annotation.project_id == PROJECT, Annotation.completed_by_id == USER, Annotation.was_cancelled
    )
    return select(Task).where(
        Task.project_id == PROJECT,
        Task.id.in_(skips),
        _unworked(Task.id, Annotation.was_cancelled.is_(False)),
        has_room(form),
    )


@dataclass(frozen=True)
class Picking:
    """A queue's pick: the first candidate nobody else has locked, locked; `again` passes over REFUSED,
    those found full under the lock. That is rare, and a statement of its own: a list of values is
    written into the SQL at each execution, which keeps a statement off the driver's direct way."""

    first: Any
    again: Any


def _picking(query: Any) -> Picking:
    query = (
        query.with_only_columns(*direct.columns_of(Task))
        .limit(ONE)
        .with_for_update(of=Task, skip_locked=True)
    )
    return Picking(query, query.where(Task.id.not_in(REFUSED)))


@cache
def _queues(form: Form, drafted: bool) -> tuple[tuple[Picking, str], ...]:
    """A fresh task with USER's draft first (they resume it), then the fresh queue in the stream's
    order, then (requeue to me) USER's skipped tasks, oldest skip first."""
    fresh = _fresh(form)
    queues: list[tuple[Any, str]] = []
    if drafted:
        queues += [(query, "draft") for query in _ordered(fresh.where(Task.id.in_(DRAFTED)), form)]
    queues += [(query, "order") for query in _ordered(fresh, form)]
    if form.skip_queue is SkipQueue.REQUEUE_TO_ME:
        queues.append((_skipped(form).order_by(_last_skip(), Task.id), "requeued_skip"))
    return tuple((_picking(query), reason) for query, reason in queues)


@dataclass
class _Caller:
    """What `next` knows of the caller after its first query."""

    project: Project
    member: ProjectMember | None
    own: TaskReservation | None  # their reservation in the project (one at most), live or not
    has_drafts: bool


MEMBER = cast(Table, ProjectMember.__table__).alias("member")  # apart from the one `visible_to` correlates
CALLER = (Project, ProjectMember, TaskReservation)


@cache
def _caller_statement(manages: bool) -> Any:
    drafts = exists().where(Draft.project_id == PROJECT, Draft.user_id == USER)
    columns = (
        *direct.columns_of(Project),
        *direct.columns_of(ProjectMember, MEMBER),
        *direct.columns_of(TaskReservation),
    )
    return (
        select(*columns, drafts)
        .outerjoin(MEMBER, and_(MEMBER.c.project_id == Project.id, MEMBER.c.user_id == USER))
        .outerjoin(
            TaskReservation, and_(TaskReservation.project_id == Project.id, TaskReservation.user_id == USER)
        )
        .where(Project.id == PROJECT, visible_to(ORGANIZATION, USER, manages=manages))
    )


async def _caller(session: AsyncSession, actor: Actor, project_id: int) -> _Caller:
    """The project the actor may see, their membership, reservation and whether they keep drafts:
    one query, since most calls need nothing more before the pick."""
    params = {"project": project_id, "user": actor.user_id, "organization_id": actor.organization_id}
    found = await direct.objects(session, _caller_statement(actor.manages), params, CALLER)
    if not found:
        raise NotFound("Not found.")
    return _Caller(*found[0])


async def _onboarding(
    session: AsyncSession, settings: ProjectSettings, project_id: int, user_id: int
) -> bool:
    """Onboarding evaluation: ground-truth tasks come first until the user has worked on
    `onboarding_tasks` of them."""
    evaluation = settings.quality.evaluation
    if not evaluation.enabled or evaluation.onboarding_tasks == 0:
        return False
    done = await session.scalar(ONBOARDING_DONE, {"project": project_id, "user": user_id})
    return (done or 0) < evaluation.onboarding_tasks


_truth = aliased(Annotation)
# Ground-truth tasks USER submitted or skipped.
ONBOARDING_DONE = select(func.count(distinct(Annotation.task_id))).where(
    Annotation.project_id == PROJECT,
    Annotation.completed_by_id == USER,
    exists().where(_truth.task_id == Annotation.task_id, _truth.ground_truth),
)


async def _blocked(
    session: AsyncSession,
    actor: Actor,
    member: ProjectMember | None,
    project: Project,
    settings: ProjectSettings,
    worked: int | None = None,
) -> str | None:
    """Pauses and the tasks-per-annotator limit apply to annotators and reviewers only."""
    if project_role(actor.role, member.role if member else None) not in PROJECT_ROLES:
        return None
    if member is not None and (paused := pause_reason(settings, member, actor.role)):
        return f"You are paused in this project: {paused}"
    limit = annotator_limit(settings, project.task_count)
    if limit is None:
        return None
    if worked is None:
        worked = await _worked(session, project.id, actor.user_id)
    if worked >= limit:
        return f"You are paused in this project: you reached the limit of {limit} tasks per annotator"
    return None


async def next_task(session: AsyncSession, actor: Actor, project_id: int, now: datetime) -> Served:
    """Resume the caller's live reservation, else pick, lock and reserve the next task."""
    caller = await _caller(session, actor, project_id)
    project, own = caller.project, caller.own
    settings = settings_of(project)
    blocked = await _blocked(session, actor, caller.member, project, settings)
    if blocked:
        return Served(None, blocked)
    params = _params(project.id, actor.user_id, now, settings)
    drafted = frozenset(await session.scalars(DRAFTED_TASKS, params)) if caller.has_drafts else frozenset()
    params["drafted"] = list(drafted)
    form = Form.of(settings, onboarding=await _onboarding(session, settings, project.id, actor.user_id))
    if settings.annotation.assignment == "manual":
        return await _next_assigned(session, form, params, drafted)
    ttl = timedelta(minutes=settings.annotation.reservation_minutes)
    params["expires_at"] = now + ttl
    if own is not None and own.expires_at > now:
        resumed = await session.scalar(UNWORKED_TASK, {**params, "task": own.task_id})
        if resumed is not None:
            await session.execute(MOVE, {**params, "task": resumed.id, "reservation_id": own.id})
            return Served(resumed, "reservation", drafted)
    for picking, reason in _queues(form, bool(drafted)):
        picked = await _pick(session, picking, settings, params)
        if picked is not None:
            return Served(picked, reason, drafted)
    return Served(None, "There are no more tasks for you in this project.")


# Tasks USER keeps a draft of (asked only when they keep one).
DRAFTED_TASKS = select(Draft.task_id).where(Draft.project_id == PROJECT, Draft.user_id == USER)
# The task, unless USER has worked on it already.
UNWORKED_TASK = select(Task).where(Task.id == TASK, _unworked(Task.id))


async def _pick(
    session: AsyncSession, picking: Picking, settings: ProjectSettings, params: dict[str, Any]
) -> Task | None:
    """Lock the first candidate nobody else holds and reserve it if it still has room under the lock."""
    claim = _claim_statement(
        settings.effective_skip_queue(), settings.quality.evaluation.enabled, session.get_bind().dialect.name
    )
    refused: list[int] = []
    params = {**params, "refused": refused}
    for _ in range(PICK_ATTEMPTS):
        statement = picking.again if refused else picking.first
        found = await direct.objects(session, statement, params, (Task,))
        if not found:
            return None
        task: Task = found[0][0]
        if await direct.scalar(session, claim, {**params, "task": task.id, "overlap": task.overlap}):
            return task
        refused.append(task.id)
    return None


@cache
def _room_statement(skip_queue: SkipQueue, evaluation: bool) -> Any:
    return select(room(TASK, OVERLAP, skip_queue, evaluation=evaluation))


async def room_left(
    session: AsyncSession, task: Task, user_id: int, settings: ProjectSettings, now: datetime
) -> bool:
    """Recount a locked task's slots in a fresh statement: exact, since every slot writer locks the row."""
    statement = _room_statement(settings.effective_skip_queue(), settings.quality.evaluation.enabled)
    params = {
        "task": task.id,
        "overlap": task.overlap,
        "project": task.project_id,
        "user": user_id,
        "now": now,
    }
    return bool(await session.scalar(statement, params))


# Reservations are written through the table, not the ORM's unit of work, whose flush costs several
# times the statement. One row per annotator per project (a unique index): taking a task moves it.
RESERVATIONS = cast(Table, TaskReservation.__table__)
MOVE = (
    RESERVATIONS.update()
    .where(RESERVATIONS.c.id == bindparam("reservation_id"))
    .values(task_id=TASK, expires_at=EXPIRES)
)


# INSERT ... ON CONFLICT, which both databases have, each through its own dialect's construct
UPSERT: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@cache
def _claim_statement(skip_queue: SkipQueue, evaluation: bool, dialect: str) -> Any:
    """Reserve TASK for USER if it has room, counted in this statement (a fresh snapshot, taken under
    the task's lock, as `room_left`'s): returns the reservation's id, none when there was no room.

    The user's reservation row in the project is moved to TASK, or made when there is none: an
    upsert, so it holds whatever another request of theirs did to that row meanwhile (a submit
    in another tab released it; another tab reserved a task at the same time)."""
    columns = ("task_id", "project_id", "user_id", "expires_at", "created_at")
    values = select(TASK, PROJECT, USER, EXPIRES, NOW).where(
        room(TASK, OVERLAP, skip_queue, evaluation=evaluation)
    )
    insert = UPSERT[dialect](RESERVATIONS).from_select(columns, values)
    moved = {"task_id": insert.excluded.task_id, "expires_at": insert.excluded.expires_at}
    return insert.on_conflict_do_update(index_elements=["project_id", "user_id"], set_=moved).returning(
        RESERVATIONS.c.id
    )


@cache
def _assigned(requeue_to_me: bool) -> tuple[tuple[Any, str], ...]:
    """Manual assignment: USER's assigned tasks they have not worked on, then (requeue to me) the
    assigned tasks they skipped and never submitted."""
    assigned = exists().where(
        TaskAssignment.task_id == Task.id, TaskAssignment.user_id == USER, TaskAssignment.kind == "AN"
    )
    base = select(Task).where(Task.project_id == PROJECT, assigned)
    queues = [(base.where(_unworked(Task.id)), "assigned")]
    if requeue_to_me:
        skipped = base.where(~_unworked(Task.id), _unworked(Task.id, Annotation.was_cancelled.is_(False)))
        queues.append((skipped, "requeued_skip"))
    return tuple(queues)


@cache
def _assigned_picks(requeue_to_me: bool, drafted: bool) -> tuple[tuple[Any, str], ...]:
    """Manual assignment's queues by id, a drafted task first; no reservations."""
    queues = list(_assigned(requeue_to_me))
    if drafted:
        queues.insert(0, (queues[0][0].where(Task.id.in_(DRAFTED)), "draft"))
    return tuple((query.order_by(Task.id).limit(ONE), reason) for query, reason in queues)


async def _next_assigned(
    session: AsyncSession, form: Form, params: dict[str, Any], drafted: frozenset[int]
) -> Served:
    requeue_to_me = form.skip_queue is SkipQueue.REQUEUE_TO_ME
    for query, reason in _assigned_picks(requeue_to_me, bool(drafted)):
        task = await session.scalar(query, params)
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
    form = Form.of(settings)
    user_id = actor.user_id
    worked = await _worked(session, project.id, user_id)
    member = await session.scalar(
        select(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user_id)
    )
    if await _blocked(session, actor, member, project, settings, worked) is not None:
        return {"queue_total": worked, "queue_done": worked, "queue_left": 0}
    params = _params(project.id, user_id, now, settings)
    if settings.annotation.assignment == "manual":
        queues = [query for query, _ in _assigned(form.skip_queue is SkipQueue.REQUEUE_TO_ME)]
        counts = [await _count(session, query, params) for query in queues]
    else:
        counts = [int(await session.scalar(_fresh_count(form), params) or 0)]
        if form.skip_queue is SkipQueue.REQUEUE_TO_ME:
            counts.append(await _count(session, _skipped(form), params))
    left = sum(counts)
    if (limit := annotator_limit(settings, project.task_count)) is not None:
        left = max(0, min(left, limit - worked))
    done = worked - sum(counts[1:])  # skipped tasks that come back are still to do
    return {"queue_total": done + left, "queue_done": done, "queue_left": left}


@cache
def _fresh_count(form: Form) -> Any:
    """How many tasks `_fresh(form)` holds, without walking the project's tasks.

    Unlabeled tasks come from the maintained totals; less those USER worked on (their own
    annotations); less those without room for USER. An unlabeled task has fewer counted users than
    its overlap, so it is full only through live reservations or assignments of others: a few
    tasks, checked with the pick's own room test. A labeled task USER holds a live reservation on
    is added (`next` resumes it); under evaluation, so are labeled ground-truth tasks USER has not
    worked on (they are exempt from the overlap).
    """
    unlabeled = (
        select(func.coalesce(func.sum(ProjectTotals.tasks - ProjectTotals.finished), 0))
        .where(ProjectTotals.project_id == PROJECT)
        .scalar_subquery()
    )
    worked = (
        select(func.count(distinct(Annotation.task_id)))
        .join(Task, Task.id == Annotation.task_id)
        .where(Annotation.project_id == PROJECT, Annotation.completed_by_id == USER)
        .where(Task.is_labeled.is_(False))
        .scalar_subquery()
    )
    reserved = select(TaskReservation.task_id).where(
        TaskReservation.project_id == PROJECT,
        TaskReservation.user_id != USER,
        TaskReservation.expires_at > NOW,
    )
    assigned = select(TaskAssignment.task_id).where(
        TaskAssignment.project_id == PROJECT, TaskAssignment.user_id != USER, TaskAssignment.kind == "AN"
    )
    full = (
        select(func.count(Task.id))
        .where(
            Task.id.in_(reserved.union(assigned)),
            Task.project_id == PROJECT,
            Task.is_labeled.is_(False),
            _unworked(Task.id),
            ~has_room(form),
        )
        .scalar_subquery()
    )
    # a task labeled while USER held a live reservation on it (the settings changed): `next` resumes it
    own = select(TaskReservation.task_id).where(
        TaskReservation.project_id == PROJECT,
        TaskReservation.user_id == USER,
        TaskReservation.expires_at > NOW,
    )
    resumable = select(func.count(Task.id)).where(
        Task.id.in_(own), Task.project_id == PROJECT, Task.is_labeled, _unworked(Task.id)
    )
    if form.evaluation:  # labeled ground-truth tasks are counted below
        resumable = resumable.where(~ground_truth(Task.id))
    count = unlabeled - worked - full + resumable.scalar_subquery()
    if form.evaluation:
        truth = aliased(Annotation)
        labeled_truth = (
            select(func.count(distinct(truth.task_id)))
            .join(Task, Task.id == truth.task_id)
            .where(truth.project_id == PROJECT, truth.ground_truth)
            .where(Task.is_labeled, _unworked(Task.id))
            .scalar_subquery()
        )
        count = count + labeled_truth
    return select(count)


async def _count(session: AsyncSession, query: Any, params: dict[str, Any]) -> int:
    counted = select(func.count()).select_from(query.with_only_columns(Task.id).subquery())
    return await session.scalar(counted, params) or 0


async def _worked(session: AsyncSession, project_id: int, user_id: int) -> int:
    """Distinct tasks the user annotated or skipped in the project."""
    worked = await session.scalar(
        select(func.count(distinct(Annotation.task_id))).where(
            Annotation.project_id == project_id, Annotation.completed_by_id == user_id
        )
    )
    return worked or 0


RELEASE = (
    RESERVATIONS.delete()
    .where(RESERVATIONS.c.task_id == TASK, RESERVATIONS.c.user_id == USER)
    .returning(RESERVATIONS.c.expires_at)
)


async def release(session: AsyncSession, task_id: int, user_id: int) -> datetime | None:
    """Drop the user's reservation of the task; when it ran until, None if they held none."""
    expires_at: datetime | None = await direct.scalar(session, RELEASE, {"task": task_id, "user": user_id})
    return expires_at


async def has_slot(
    session: AsyncSession, task: Task, user_id: int, settings: ProjectSettings, now: datetime, *, held: bool
) -> bool:
    """A submit fits when the user held a live reservation or a slot is still free (T04)."""
    return held or await room_left(session, task, user_id, settings, now)
