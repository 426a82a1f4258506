"""Predictions: create one, import many, list, read, update, delete."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.bulk import among, copy_rows
from app.db.models import Prediction, Project, Task
from app.domain.errors import Invalid, NotFound
from app.domain.label_config import normalize_prediction_result
from app.domain.roles import Actor
from app.domain.task_import import model_version
from app.services.projects import config_of, get_managed_project, visible_projects
from app.services.statistics import note_bulk_write
from app.services.tasks import get_task

PREDICTION_COLUMNS = (
    "task_id", "project_id", "result", "score", "model_version", "mislabeling", "created_at", "updated_at",
)  # fmt: skip


def _score(payload: Mapping[str, Any], where: str = "score") -> float | None:
    value = payload.get("score")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise Invalid(f"{where} must be a number", field="score")
    return float(value)


async def create_prediction(session: AsyncSession, actor: Actor, payload: Mapping[str, Any]) -> Prediction:
    task_id = payload.get("task")
    if not isinstance(task_id, int):
        raise Invalid("task must be a task id", field="task")
    task = await get_task(session, actor, task_id, for_update=True)
    project = await get_managed_project(session, actor, task.project_id)
    prediction = Prediction(
        task_id=task.id,
        project_id=project.id,
        result=normalize_prediction_result(config_of(project), payload.get("result", [])),
        score=_score(payload),
        model_version=model_version(payload),
    )
    session.add(prediction)
    task.total_predictions += 1
    await session.flush()
    return prediction


async def import_predictions(session: AsyncSession, actor: Actor, project_id: int, items: Any) -> int:
    """Bulk-create predictions for existing tasks of the project; an unknown task id is an error."""
    project = await get_managed_project(session, actor, project_id)
    if not isinstance(items, list):
        raise Invalid("expected a list of predictions", field="predictions")
    config = config_of(project)
    now = utcnow()
    rows = []
    for i, item in enumerate(items):
        if (
            not isinstance(item, dict)
            or not isinstance(task := item.get("task"), int)
            or isinstance(task, bool)
        ):
            raise Invalid(f"prediction {i + 1}: needs a task id", field="task")
        try:
            result = normalize_prediction_result(config, item.get("result", []))
        except Invalid as exc:
            raise Invalid(f"prediction {i + 1}: {exc.message}", field=exc.field) from None
        score = _score(item, f"prediction {i + 1}: score")
        version = model_version(item, f"prediction {i + 1}: model_version")
        rows.append((item["task"], project.id, result, score, version, 0.0, now, now))
    task_ids = {r[0] for r in rows}
    found = set(
        await session.scalars(select(Task.id).where(Task.project_id == project.id, among(Task.id, task_ids)))
    )
    missing = sorted(task_ids - found)
    if missing:
        raise Invalid(f"tasks not in this project: {missing[:20]}", field="task")
    if rows:
        await copy_rows(session, Prediction.__table__, PREDICTION_COLUMNS, rows)  # type: ignore[arg-type]
        await note_bulk_write(session, {"predictions": len(rows)})
        counted = select(func.count(Prediction.id)).where(Prediction.task_id == Task.id).scalar_subquery()
        await session.execute(
            update(Task)
            .where(among(Task.id, task_ids))
            .values(total_predictions=counted)
            .execution_options(synchronize_session=False)
        )
    return len(rows)


async def get_prediction(session: AsyncSession, actor: Actor, prediction_id: int) -> Prediction:
    prediction = await session.scalar(
        select(Prediction)
        .join(Project, Project.id == Prediction.project_id)
        .where(Prediction.id == prediction_id, visible_projects(actor))
    )
    if prediction is None:
        raise NotFound("Not found.")
    return prediction


async def list_predictions(
    session: AsyncSession, actor: Actor, *, task_id: int | None, project_id: int | None
) -> list[Prediction]:
    query = (
        select(Prediction).join(Project, Project.id == Prediction.project_id).where(visible_projects(actor))
    )
    if task_id is not None:
        query = query.where(Prediction.task_id == task_id)
    if project_id is not None:
        query = query.where(Prediction.project_id == project_id)
    return list(await session.scalars(query.order_by(Prediction.id).limit(10000)))


async def update_prediction(
    session: AsyncSession, actor: Actor, prediction_id: int, payload: Mapping[str, Any]
) -> Prediction:
    prediction = await get_prediction(session, actor, prediction_id)
    project = await get_managed_project(session, actor, prediction.project_id)
    if "result" in payload:
        prediction.result = normalize_prediction_result(config_of(project), payload["result"])
    if "score" in payload:
        prediction.score = _score(payload)
    if "model_version" in payload:
        prediction.model_version = model_version(payload)
    prediction.updated_at = utcnow()
    await session.flush()
    return prediction


async def delete_prediction(session: AsyncSession, actor: Actor, prediction_id: int) -> None:
    prediction = await get_prediction(session, actor, prediction_id)
    await get_managed_project(session, actor, prediction.project_id)
    await session.execute(delete(Prediction).where(Prediction.id == prediction.id))
    await session.execute(
        update(Task).where(Task.id == prediction.task_id).values(total_predictions=Task.total_predictions - 1)
    )


async def predictions_of(session: AsyncSession, task_ids: list[int]) -> dict[int, list[Prediction]]:
    """Predictions of several tasks in one query, grouped by task."""
    grouped: dict[int, list[Prediction]] = {t: [] for t in task_ids}
    if task_ids:
        rows = await session.scalars(
            select(Prediction).where(Prediction.task_id.in_(task_ids)).order_by(Prediction.id)
        )
        for prediction in rows:
            grouped[prediction.task_id].append(prediction)
    return grouped
