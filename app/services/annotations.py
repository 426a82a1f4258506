"""Annotations: create (submit or skip), read, list, update, delete, keeping task counters right."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import direct
from app.db.base import utcnow
from app.db.models import Annotation, Membership, Project
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.label_config import validate_result
from app.domain.label_stream import TaskView, can_skip
from app.domain.roles import Actor, Role
from app.domain.task_state import SkipQueue
from app.services import agreement, drafts, label_stream
from app.services.projects import config_of, settings_of, visible_projects
from app.services.tasks import get_task, refresh_task_state, task_to_annotate


def _result_of(project: Project, payload: Mapping[str, Any], *, cancelled: bool) -> list[Any]:
    result = payload.get("result", [])
    if result is None:
        result = []
    if not isinstance(result, list):
        raise Invalid("result must be a list of result items", field="result")
    if not cancelled:
        validate_result(config_of(project), result)
        if not result and not settings_of(project).annotation.allow_empty_annotations:
            raise Invalid("empty annotations are not allowed in this project", field="result")
    return result


# A submit writes its annotation through the table: the ORM's flush of one new row costs as much again
# as the statement. Every column is given a value (so no default is computed at execution and the
# statement can run on the driver); what it returns is a copy of the written row, outside the session.
ANNOTATIONS = cast(Table, Annotation.__table__)
WRITTEN = [c for c in ANNOTATIONS.c if not c.primary_key and c.server_default is None]
INSERT = (
    ANNOTATIONS.insert()
    .values({c.key: bindparam(c.key, type_=c.type) for c in WRITTEN})
    .returning(*ANNOTATIONS.c)
)


def _row(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values given, and each other column as an INSERT that leaves it out writes it: its
    default, else NULL."""
    return {c.key: values[c.key] if c.key in values else _default(cast(Any, c.default)) for c in WRITTEN}


def _default(default: Any) -> Any:
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


async def create_annotation(
    session: AsyncSession,
    actor: Actor,
    task_id: int,
    payload: Mapping[str, Any],
    *,
    cancelled: bool = False,
    now: datetime | None = None,
) -> Annotation:
    """Submit (or, with `was_cancelled`, skip) a task, within the stream's rules."""
    now = now or utcnow()
    task, project, drafted = await task_to_annotate(session, actor, task_id)
    settings = settings_of(project)
    cancelled = cancelled or bool(payload.get("was_cancelled", False))
    if cancelled:
        view = TaskView(task.id, task.inner_id, task.overlap, task.random_key, task.allow_skip)
        can_skip(settings, view, payload.get("comment"))
    client_key = payload.get("client_key")
    if client_key is not None:
        existing = await session.scalar(
            select(Annotation).where(
                Annotation.task_id == task.id,
                Annotation.completed_by_id == actor.user_id,
                Annotation.client_key == str(client_key),
            )
        )
        if existing is not None:
            return existing
    result = _result_of(project, payload, cancelled=cancelled)
    ground_truth = bool(payload.get("ground_truth", False)) and actor.manages
    skip_queue = settings.effective_skip_queue()
    held_until = None
    if not cancelled or skip_queue is not SkipQueue.REQUEUE_TO_ME:
        held_until = await label_stream.release(session, task.id, actor.user_id)
    if not cancelled and not ground_truth and not actor.manages and settings.annotation.assignment == "auto":
        held = held_until is not None and held_until > now
        if not await label_stream.has_slot(session, task, actor.user_id, settings, now, held=held):
            draft = await drafts.save_draft(session, actor, task.id, payload, now)
            raise Conflict(
                "Your reservation of this task expired and other annotators filled it; your work was "
                "kept as a draft, not counted as an annotation. Take the next task.",
                extra={"draft_id": draft.id},
                keep_changes=True,
            )
    if ground_truth:
        await _clear_ground_truth(session, task.id)
    row = await direct.first(
        session,
        INSERT,
        _row(
            {
                "task_id": task.id,
                "project_id": task.project_id,
                "completed_by_id": await _completed_by(session, actor, payload),
                "result": result,
                "was_cancelled": cancelled,
                "ground_truth": ground_truth,
                "lead_time": _lead_time(payload),
                "client_key": None if client_key is None else str(client_key),
                "last_action": "skipped" if cancelled else "submitted",
                # the stream orders skipped tasks by when they were skipped: on the same clock as the rest
                "created_at": now,
                "updated_at": now,
            }
        ),
    )
    assert row is not None
    annotation = Annotation(**dict(zip(ANNOTATIONS.c.keys(), row, strict=True)))
    if drafted:
        await drafts.consume_drafts(session, task.id, actor.user_id)
    was_labeled = task.is_labeled
    await refresh_task_state(session, task, skip_queue, now)
    if task.is_labeled and not was_labeled:
        await agreement.add_annotator_on_low_agreement(session, task, settings, config_of(project))
    evaluated = settings.quality.evaluation.enabled
    if evaluated and (ground_truth or await agreement.has_ground_truth(session, task.id)):
        await _refresh_evaluation(session, project, annotation, truth_changed=ground_truth)
    return annotation


async def _refresh_evaluation(
    session: AsyncSession, project: Project, annotation: Annotation, *, truth_changed: bool
) -> None:
    """Evaluate again the author of a changed annotation, and, when it changed the task's ground
    truth, everyone who worked on the task."""
    await session.flush()
    authors = [] if annotation.completed_by_id is None else [annotation.completed_by_id]
    await agreement.refresh_evaluation(
        session,
        project.id,
        settings_of(project),
        config_of(project),
        users=authors,
        task_id=annotation.task_id if truth_changed else None,
    )


async def _completed_by(session: AsyncSession, actor: Actor, payload: Mapping[str, Any]) -> int:
    """Only managers may record an annotation in someone else's name, a member of their organization."""
    value = payload.get("completed_by")
    if not actor.manages or not isinstance(value, int) or isinstance(value, bool) or value == actor.user_id:
        return actor.user_id
    member = await session.scalar(
        select(Membership.user_id).where(
            Membership.user_id == value, Membership.organization_id == actor.organization_id
        )
    )
    if member is None:
        raise Invalid(f"completed_by: user {value} is not in this organization", field="completed_by")
    return value


def _lead_time(payload: Mapping[str, Any]) -> float | None:
    value = payload.get("lead_time")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise Invalid("lead_time must be a number of seconds, 0 or more", field="lead_time")
    return float(value)


async def _clear_ground_truth(session: AsyncSession, task_id: int) -> None:
    await session.execute(
        update(Annotation)
        .where(Annotation.task_id == task_id, Annotation.ground_truth)
        .values(ground_truth=False)
    )


async def get_annotation(session: AsyncSession, actor: Actor, annotation_id: int) -> Annotation:
    annotation = await session.scalar(
        select(Annotation)
        .join(Project, Project.id == Annotation.project_id)
        .where(Annotation.id == annotation_id, visible_projects(actor))
    )
    if annotation is None:
        raise NotFound("Not found.")
    if not actor.manages and annotation.completed_by_id != actor.user_id and not _reviews(actor):
        raise NotFound("Not found.")
    return annotation


def _reviews(actor: Actor) -> bool:
    return actor.role is Role.REVIEWER


async def list_annotations(session: AsyncSession, actor: Actor, task_id: int) -> list[Annotation]:
    """A task's annotations without skips, as Label Studio lists them."""
    task = await get_task(session, actor, task_id)
    query = select(Annotation).where(Annotation.task_id == task.id, Annotation.was_cancelled.is_(False))
    if not actor.manages and not _reviews(actor):
        query = query.where(Annotation.completed_by_id == actor.user_id)
    return list(await session.scalars(query.order_by(Annotation.id)))


async def update_annotation(
    session: AsyncSession,
    actor: Actor,
    annotation_id: int,
    payload: Mapping[str, Any],
    now: datetime | None = None,
) -> Annotation:
    """Change an annotation; `now` (the stream's clock) stamps it and any completion it causes."""
    now = now or utcnow()
    annotation = await get_annotation(session, actor, annotation_id)
    task = await get_task(session, actor, annotation.task_id, for_update=True)
    project = await session.get_one(Project, task.project_id)
    if "was_cancelled" in payload:
        annotation.was_cancelled = bool(payload["was_cancelled"])
    if "result" in payload:
        annotation.result = _result_of(project, payload, cancelled=annotation.was_cancelled)
    if "lead_time" in payload:
        annotation.lead_time = _lead_time(payload)
    was_truth = annotation.ground_truth
    if "ground_truth" in payload and actor.manages:
        if payload["ground_truth"]:
            await _clear_ground_truth(session, task.id)
        annotation.ground_truth = bool(payload["ground_truth"])
    annotation.updated_by_id = actor.user_id
    annotation.updated_at = now
    annotation.last_action = "updated"
    await session.flush()
    await refresh_task_state(session, task, settings_of(project).effective_skip_queue(), now)
    truth_changed = was_truth or annotation.ground_truth
    await _refresh_evaluation(session, project, annotation, truth_changed=truth_changed)
    await session.flush()
    return annotation


async def delete_annotation(
    session: AsyncSession, actor: Actor, annotation_id: int, now: datetime | None = None
) -> None:
    annotation = await get_annotation(session, actor, annotation_id)
    task = await get_task(session, actor, annotation.task_id, for_update=True)
    project = await session.get_one(Project, task.project_id)
    await session.execute(delete(Annotation).where(Annotation.id == annotation.id))
    await refresh_task_state(session, task, settings_of(project).effective_skip_queue(), now)
    await _refresh_evaluation(session, project, annotation, truth_changed=annotation.ground_truth)
    await session.flush()


async def annotations_of(session: AsyncSession, task_ids: list[int]) -> dict[int, list[Annotation]]:
    """Annotations of several tasks in one query, grouped by task."""
    grouped: dict[int, list[Annotation]] = {t: [] for t in task_ids}
    if task_ids:
        rows = await session.scalars(
            select(Annotation).where(Annotation.task_id.in_(task_ids)).order_by(Annotation.id)
        )
        for annotation in rows:
            grouped[annotation.task_id].append(annotation)
    return grouped
