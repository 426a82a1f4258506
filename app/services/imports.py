"""Import tasks (with inline annotations and predictions) into a project in one transaction."""

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import Annotation, Prediction, Project, Task
from app.domain.errors import Invalid
from app.domain.label_config import (
    LabelConfig,
    normalize_prediction_result,
    validate_result,
    validate_task_data,
)
from app.domain.roles import Actor
from app.domain.task_import import TaskItem
from app.domain.task_state import is_labeled, random_key
from app.services.jobs import enqueue
from app.services.projects import config_of, get_managed_project, settings_of


@dataclass
class ImportResult:
    task_ids: list[int]
    annotation_count: int
    prediction_count: int
    duration: float
    data_columns: list[str]


def _check_item(config: LabelConfig, item: TaskItem, row: int) -> None:
    """Validate one task and its inline results, naming the row in any error."""
    try:
        validate_task_data(config, item.data)
        for kind, entries in (("annotations", item.annotations), ("predictions", item.predictions)):
            for i, entry in enumerate(entries):
                if kind == "predictions":
                    entry["result"] = normalize_prediction_result(config, entry.get("result", []))
                elif not entry.get("was_cancelled"):
                    result = entry.get("result", [])
                    if not isinstance(result, list):
                        raise Invalid(f"{kind}[{i}].result must be a list", field="result")
                    validate_result(config, result)
    except Invalid as exc:
        raise Invalid(f"task {row}: {exc.message}", field=exc.field) from None


async def import_tasks(
    session: AsyncSession, actor: Actor, project_id: int, items: list[TaskItem]
) -> ImportResult:
    """Validate every item first, then write them all; any error leaves nothing behind."""
    started = time.perf_counter()
    project = await get_managed_project(session, actor, project_id)
    config = config_of(project)
    for row, item in enumerate(items, start=1):
        _check_item(config, item, row)
    locked = await session.scalar(
        select(Project)
        .where(Project.id == project.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    first_inner = locked.next_inner_id
    settings = settings_of(project)
    overlap = settings.quality.annotations_per_task
    now = utcnow()
    skip_queue = str(settings.annotation.skip_queue)
    rows = [
        {
            "project_id": project.id,
            "inner_id": first_inner + i,
            "data": item.data,
            "meta": item.meta,
            "allow_skip": item.allow_skip,
            "overlap": overlap,
            "random_key": random_key(project.random_seed, first_inner + i),
            "created_at": now,
            "updated_at": now,
            **_counters(item, overlap, skip_queue, now),
        }
        for i, item in enumerate(items)
    ]
    task_ids: list[int] = []
    if rows:
        result = await session.execute(insert(Task).returning(Task.id, sort_by_parameter_order=True), rows)
        task_ids = list(result.scalars())
    keys = sorted({k for item in items for k in item.data})
    await session.execute(
        update(Project)
        .where(Project.id == project.id)
        .values(
            next_inner_id=first_inner + len(items),
            task_count=Project.task_count + len(items),
            data_columns=sorted(set(locked.data_columns) | set(keys)),
        )
    )
    annotations, predictions = await _write_inline(session, actor, project, items, task_ids, now)
    if task_ids:
        enqueue(session, "recount_project", project_id=project.id)
    return ImportResult(task_ids, annotations, predictions, time.perf_counter() - started, keys)


def _counters(item: TaskItem, overlap: int, skip_queue: str, now: Any) -> dict[str, Any]:
    """Counters of a new task; its inline annotations all belong to the importing user."""
    submitted = sum(1 for a in item.annotations if not a.get("was_cancelled"))
    skipped = len(item.annotations) - submitted
    labeled = is_labeled(
        annotators=1 if submitted else 0,
        skippers_only=1 if skipped and not submitted else 0,
        overlap=overlap,
        skip_queue=skip_queue,
    )
    return {
        "total_annotations": submitted,
        "cancelled_annotations": skipped,
        "total_predictions": len(item.predictions),
        "is_labeled": labeled,
        "completed_at": now if labeled else None,
    }


async def _write_inline(
    session: AsyncSession,
    actor: Actor,
    project: Project,
    items: list[TaskItem],
    task_ids: list[int],
    now: Any,
) -> tuple[int, int]:
    annotation_rows = []
    prediction_rows = []
    for task_id, item in zip(task_ids, items, strict=True):
        for a in item.annotations:
            annotation_rows.append(
                {
                    "task_id": task_id,
                    "project_id": project.id,
                    "completed_by_id": actor.user_id,
                    "result": a.get("result") or [],
                    "was_cancelled": bool(a.get("was_cancelled", False)),
                    "ground_truth": bool(a.get("ground_truth", False)),
                    "lead_time": a.get("lead_time"),
                    "last_action": "imported",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for p in item.predictions:
            prediction_rows.append(
                {
                    "task_id": task_id,
                    "project_id": project.id,
                    "result": p["result"],
                    "score": p.get("score"),
                    "model_version": str(p.get("model_version") or "undefined"),
                    "created_at": now,
                    "updated_at": now,
                }
            )
    if annotation_rows:
        await session.execute(insert(Annotation), annotation_rows)
    if prediction_rows:
        await session.execute(insert(Prediction), prediction_rows)
    return len(annotation_rows), len(prediction_rows)
