"""Tasks: read, list with Data Manager filters, create one, update, delete, keep counters right."""

import operator
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    distinct,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.db import direct
from app.db.base import utcnow
from app.db.bulk import among
from app.db.json_value import json_value
from app.db.models import TASK_BUCKET, Annotation, Draft, Project, ProjectTotals, Task, TaskBucket
from app.domain.errors import Invalid, NotFound
from app.domain.label_config import validate_task_data
from app.domain.pagination import Page, check_in_range
from app.domain.roles import Actor
from app.domain.task_query import Filter, Scope, TaskQuery, counted_scope
from app.domain.task_state import SkipQueue
from app.services.projects import (
    config_of,
    counted_annotations,
    get_managed_project,
    get_project,
    visible_to,
)


async def get_task(session: AsyncSession, actor: Actor, task_id: int, *, for_update: bool = False) -> Task:
    """A task in a project the actor may see; anything else is 404."""
    task: Task = (await _task_row(session, actor, task_id, for_update))[0]
    return task


@cache
def _task_and_project_statement(manages: bool, for_update: bool, drafted: bool = False) -> Any:
    user: Any = bindparam("user_id")
    columns: list[Any] = [*direct.columns_of(Task), *direct.columns_of(Project)]
    if drafted:
        columns.append(exists().where(Draft.task_id == Task.id, Draft.user_id == user))
    query = (
        select(*columns)
        .join(Project, Project.id == Task.project_id)
        .where(
            Task.id == bindparam("task_id"),
            visible_to(bindparam("organization_id"), user, manages=manages),
        )
    )
    return query.with_for_update(of=Task) if for_update else query


async def _task_row(
    session: AsyncSession, actor: Actor, task_id: int, for_update: bool, drafted: bool = False
) -> Sequence[Any]:
    """The task and its project (and, with `drafted`, whether the actor keeps drafts of it), in one
    prebuilt query; a task in a project the actor may not see is a 404."""
    params = {"task_id": task_id, "organization_id": actor.organization_id, "user_id": actor.user_id}
    statement = _task_and_project_statement(actor.manages, for_update, drafted)
    found = await direct.objects(session, statement, params, (Task, Project))
    if not found:
        raise NotFound("Not found.")
    return found[0]


async def task_to_annotate(session: AsyncSession, actor: Actor, task_id: int) -> tuple[Task, Project, bool]:
    """The task locked for an annotation, its project, and whether the actor keeps drafts of it,
    which the annotation uses up (asked here, so a submit without drafts does not delete any)."""
    task, project, drafted = await _task_row(session, actor, task_id, True, drafted=True)
    return task, project, bool(drafted)


COMPARE = {
    "equal": operator.eq,
    "not_equal": operator.ne,
    "less": operator.lt,
    "greater": operator.gt,
    "less_or_equal": operator.le,
    "greater_or_equal": operator.ge,
}


def _sql_filter(f: Filter) -> Any:
    """One Data Manager filter as a SQL condition (its value is already of the column's type)."""
    key = f.data_key
    column: Any = getattr(Task, f.column) if key is None else Task.data[key].as_string()
    if key is not None and f.kind in ("number", "boolean"):
        column = json_value(Task.data, key, f.kind)
    value = f.value
    if f.operator == "empty":
        return column.is_(None) if value else column.is_not(None)
    if f.operator in COMPARE:
        return COMPARE[f.operator](column, value)
    if f.operator in ("in", "not_in"):
        inside = column.between(*value)
        return inside if f.operator == "in" else ~inside
    if f.operator in ("in_list", "not_in_list"):
        return column.in_(value) if f.operator == "in_list" else column.not_in(value)
    if f.operator == "regex":
        return column.regexp_match(value)
    contains = column.contains(value, autoescape=True)
    return contains if f.operator == "contains" else ~contains


def filtered_tasks(project_id: int, query: TaskQuery, *, only_annotated: bool = False) -> Select[Task]:
    """The SELECT of a project's tasks narrowed by a Data Manager query."""
    stmt = select(Task).where(Task.project_id == project_id)
    if query.filters:
        conditions = [_sql_filter(f) for f in query.filters]
        stmt = stmt.where(and_(*conditions) if query.conjunction == "and" else or_(*conditions))
    if query.selected_all and query.selected_ids:
        stmt = stmt.where(~among(Task.id, query.selected_ids))
    elif not query.selected_all:
        stmt = stmt.where(among(Task.id, query.selected_ids))
    if only_annotated:
        stmt = stmt.where(Task.total_annotations + Task.cancelled_annotations > 0)
    return stmt


UNIQUE_KEYS = frozenset({"id", "inner_id"})  # unique within a project: no tie to break


def _key(column: Any, descending: bool) -> Any:
    return column.desc().nulls_first() if descending else column.asc().nulls_last()


def _ordered(stmt: Select[Any], query: TaskQuery, *, reverse: bool = False) -> Select[Any]:
    """The requested order (or its exact reverse), ties broken by id in the direction of the last
    key, so that an index on (project_id, key, id) serves the page by one scan, forwards or
    backwards, without sorting.

    Empty values sort last ascending and first descending on every database, as PostgreSQL's
    indexes give them.
    """
    order = []
    descending = False
    for column, descending in query.ordering:
        col: Any = Task.data[column[5:]].as_string() if column.startswith("data.") else getattr(Task, column)
        order.append(_key(col, descending != reverse))
    if not any(column in UNIQUE_KEYS for column, _ in query.ordering):
        order.append(_key(Task.id, descending != reverse))
    return stmt.order_by(*order)


def _page_ids(stmt: Select[Task], query: TaskQuery, page: Page) -> Select[Any]:
    """The page's task ids, found before any other column is read: where an index holds the order,
    the rows skipped to reach the page cost an index-only scan."""
    return _ordered(stmt.with_only_columns(Task.id), query).offset(page.offset).limit(page.size)


def _bucket_count(scope: Scope) -> Any:
    """What a bucket row counts of a scope's tasks."""
    if scope == "all":
        return TaskBucket.tasks
    if scope == "labeled":
        return TaskBucket.labeled
    return TaskBucket.tasks - TaskBucket.labeled


def _page_ids_from_end(
    stmt: Select[Task], project_id: int, scope: Scope, query: TaskQuery, page: Page
) -> Select[Any]:
    """`_page_ids` of the whole project (or its labeled or unlabeled tasks) read backwards from its
    end, for pages past the middle.

    The count comes from the project's buckets in the same statement, so it describes the rows this
    statement sees even while an import or delete commits meanwhile. The planner cannot tell how many
    rows a limit computed at run time keeps, so a constant outer limit tells it: a page.
    """
    count = (
        select(func.coalesce(func.sum(_bucket_count(scope)), 0))
        .where(TaskBucket.project_id == project_id)
        .scalar_subquery()
    )
    end = page.offset + page.size
    after = case((count > end, count - end), else_=0)
    inside = case((count >= end, page.size), (count > page.offset, count - page.offset), else_=0)
    ids = _ordered(stmt.with_only_columns(Task.id), query, reverse=True).offset(after).limit(inside)
    return select(ids.subquery().c.id).limit(page.size)


def _id_descending(query: TaskQuery) -> bool | None:
    """The direction of a list ordered by task id first (the default order), else None."""
    if not query.ordering:
        return False
    column, descending = query.ordering[0]
    return descending if column == "id" else None


def _page_ids_by_bucket(project_id: int, scope: Scope, descending: bool, page: Page) -> Select[Any]:
    """`_page_ids` of the whole project (or its labeled or unlabeled tasks) in id order, skipping at
    most one bucket's ids.

    A running sum over the project's buckets, in the list's direction, finds the bucket holding the
    page's first row and how many rows come before that bucket; the scan starts at the bucket's edge
    and skips the rest. Buckets and tasks are read by one statement, so they agree even while an
    import or delete commits meanwhile.
    """
    per_bucket = func.sum(_bucket_count(scope))
    before = func.sum(per_bucket).over(order_by=_key(TaskBucket.bucket, descending)) - per_bucket
    buckets = (
        select(TaskBucket.bucket, per_bucket.label("tasks"), before.label("before"))
        .where(TaskBucket.project_id == project_id)
        .group_by(TaskBucket.bucket)
        .subquery()
    )
    start = (
        select(buckets.c.bucket, buckets.c.before)
        .where(buckets.c.before + buckets.c.tasks > page.offset)
        .order_by(_key(buckets.c.bucket, descending))
        .limit(1)
        .cte("start")
    )
    edge = select((start.c.bucket + int(descending)) * TASK_BUCKET).scalar_subquery()  # lower or upper
    skip = select(page.offset - start.c.before).scalar_subquery()  # none past the end: SQLite needs 0
    ids = select(Task.id).where(Task.project_id == project_id)
    if scope != "all":
        ids = ids.where(Task.is_labeled.is_(scope == "labeled"))
    return (
        ids.where(Task.id < edge if descending else Task.id >= edge)
        .order_by(_key(Task.id, descending))
        .offset(func.coalesce(skip, 0))
        .limit(page.size)
    )


def _page_ids_of(
    stmt: Select[Task], project_id: int, query: TaskQuery, page: Page, scope: Scope | None, total: int
) -> Select[Any]:
    """The page's ids by the cheapest exact path: the whole project, or its labeled or unlabeled
    tasks, in id order from its buckets and in another order from its nearer end; anything else by
    a skip from the start."""
    descending = _id_descending(query)
    if scope is not None and descending is not None:
        return _page_ids_by_bucket(project_id, scope, descending, page)
    if scope is not None and page.rows_after(total) < page.offset:
        return _page_ids_from_end(stmt, project_id, scope, query, page)
    return _page_ids(stmt, query, page)


async def _counted(session: AsyncSession, stmt: Select[Task]) -> tuple[int, int, int]:
    """The filtered set's task count and annotation and prediction sums, by reading it."""
    sub = stmt.with_only_columns(Task.total_annotations, Task.total_predictions).subquery()
    counted = select(
        func.count(),
        func.coalesce(func.sum(sub.c.total_annotations), 0),
        func.coalesce(func.sum(sub.c.total_predictions), 0),
    )
    total, annotations, predictions = (await session.execute(counted)).one()
    return int(total), int(annotations), int(predictions)


async def _kept_counts(session: AsyncSession, project_id: int, scope: Scope) -> tuple[int, int, int]:
    """`_counted` of a scope from the counters the triggers keep per project, read in one statement."""
    totals = (
        select(func.coalesce(func.sum(total), 0))
        .where(ProjectTotals.project_id == project_id)
        .scalar_subquery()
        for total in (ProjectTotals.annotations, ProjectTotals.predictions)
    )
    buckets = (
        TaskBucket.tasks,
        TaskBucket.labeled,
        TaskBucket.labeled_annotations,
        TaskBucket.labeled_predictions,
    )
    both = select(*(func.coalesce(func.sum(c), 0) for c in buckets), *totals).where(
        TaskBucket.project_id == project_id
    )
    tasks, labeled, labeled_annotations, labeled_predictions, annotations, predictions = map(
        int, (await session.execute(both)).one()
    )
    if scope == "all":
        return tasks, annotations, predictions
    if scope == "labeled":
        return labeled, labeled_annotations, labeled_predictions
    return tasks - labeled, annotations - labeled_annotations, predictions - labeled_predictions


async def list_tasks(
    session: AsyncSession,
    actor: Actor,
    project_id: int,
    query: TaskQuery,
    page: Page,
    *,
    only_annotated: bool,
) -> tuple[list[Task], int, int, int]:
    """One page of tasks with the total count and annotation/prediction sums of the filtered set.

    For the whole project and its labeled or unlabeled tasks, the total and the sums are maintained
    counters rather than a scan. The page holds exactly the rows `OFFSET` would give, but the rows it
    skips are read as ids only: those three sets skip at most one bucket of them in id order, and
    skip from the nearer end in other orders.
    """
    project = await get_project(session, actor, project_id)
    stmt = filtered_tasks(project.id, query, only_annotated=only_annotated)
    scope = counted_scope(query, only_annotated=only_annotated)
    if scope is None:
        total, annotations, predictions = await _counted(session, stmt)
    else:
        total, annotations, predictions = await _kept_counts(session, project.id, scope)
    check_in_range(page, total)
    ids = _page_ids_of(stmt, project.id, query, page, scope, total)
    tasks = await session.scalars(_ordered(select(Task).where(Task.id.in_(ids)), query))
    return list(tasks), total, annotations, predictions


def check_task_data(project: Project, data: Any, *, where: str) -> dict[str, Any]:
    """Task data must be an object holding every key the labeling config reads."""
    if not isinstance(data, dict):
        raise Invalid(f"{where}: task data must be an object", field="data")
    try:
        validate_task_data(config_of(project), data)
    except Invalid as exc:
        raise Invalid(f"{where}: {exc.message}", field="data") from None
    return data


async def update_task(session: AsyncSession, actor: Actor, task_id: int, payload: Mapping[str, Any]) -> Task:
    """Change a task's data, meta or allow_skip; data must still cover the config's keys."""
    task = await get_task(session, actor, task_id, for_update=True)
    project = await get_managed_project(session, actor, task.project_id)
    if "data" in payload:
        task.data = check_task_data(project, payload["data"], where="data")
        project.data_columns = sorted(set(project.data_columns) | set(task.data))
    if "meta" in payload:
        if not isinstance(payload["meta"], dict):
            raise Invalid("meta must be an object", field="meta")
        task.meta = payload["meta"]
    if "allow_skip" in payload:
        task.allow_skip = bool(payload["allow_skip"])
    task.updated_by_id = actor.user_id
    task.updated_at = utcnow()
    await session.flush()
    return task


async def delete_task(session: AsyncSession, actor: Actor, task_id: int) -> None:
    """Delete one task; the counter moves only if this call removed the row (a concurrent delete
    of the same task finds nothing and is a 404, not a second decrement)."""
    task = await get_task(session, actor, task_id)
    project = await get_managed_project(session, actor, task.project_id)
    result = await session.execute(delete(Task).where(Task.id == task.id))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound("Not found.")
    await session.execute(
        update(Project).where(Project.id == project.id).values(task_count=Project.task_count - 1)
    )


async def delete_tasks(session: AsyncSession, actor: Actor, project_id: int, query: TaskQuery) -> int:
    """Delete the project's tasks that the query selects; returns how many."""
    project = await get_managed_project(session, actor, project_id)
    ids = filtered_tasks(project.id, query).with_only_columns(Task.id)
    result = await session.execute(delete(Task).where(Task.id.in_(ids.scalar_subquery())))
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await session.execute(
        update(Project).where(Project.id == project.id).values(task_count=Project.task_count - count)
    )
    return count


# The task's state is written through its table: the ORM's flush of one changed row costs several
# times the statement, on every submit. The counts read the annotations' table too: one ORM column
# in the statement makes each execution an ORM update, copied and keyed for the cache anew.
TASKS = cast(Table, Task.__table__)
ANNOTATIONS = cast(Table, Annotation.__table__).c


@cache
def _task_state_statement(skip_queue: SkipQueue) -> Any:
    """Count a task's annotations and set whether it is labeled (`is_labeled`) in one statement.

    Ground-truth annotations are counted in the totals but never toward the overlap.
    """
    cancelled = ANNOTATIONS.was_cancelled
    task_id: Any = bindparam("task_id", type_=Task.id.type)
    counts = (
        select(
            task_id.label("task_id"),  # the join to the updated row: one task, one row of counts
            func.count(ANNOTATIONS.id).filter(cancelled.is_(False)).label("submitted"),
            func.count(ANNOTATIONS.id).filter(cancelled.is_(True)).label("cancelled"),
            func.count(distinct(ANNOTATIONS.completed_by_id))
            .filter(*counted_annotations(skip_queue))
            .label("done"),
        )
        .where(ANNOTATIONS.task_id == task_id)
        .subquery()
    )
    labeled = counts.c.done >= TASKS.c.overlap
    now: Any = bindparam("now")
    state = {
        "total_annotations": counts.c.submitted,
        "cancelled_annotations": counts.c.cancelled,
        "is_labeled": labeled,
        "completed_at": case((labeled, func.coalesce(TASKS.c.completed_at, now)), else_=None),
        "updated_at": now,
    }
    return (
        TASKS.update()
        .where(TASKS.c.id == counts.c.task_id)
        .values(state)
        .returning(*(TASKS.c[name] for name in state))
    )


async def refresh_task_state(
    session: AsyncSession, task: Task, skip_queue: SkipQueue, now: datetime | None = None
) -> None:
    """Recount a locked task's annotations and recompute whether it is labeled (completed `now`)."""
    params = {"task_id": task.id, "now": now or utcnow()}
    statement = _task_state_statement(skip_queue)
    state = await direct.first(session, statement, params)
    assert state is not None  # the task is locked: it is there
    for column, value in zip(statement.exported_columns, state, strict=True):
        set_committed_value(task, column.key, value)
