"""One-shot export: tasks read in id order in batches and streamed through a format writer."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import Annotation, Prediction, Task
from app.domain.exports import ExportWriter, export_context, export_formats, writer_for
from app.domain.roles import Actor
from app.services.projects import config_of, get_project
from app.services.shapes import iso

BATCH = 1000

TASK_COLUMNS = (
    Task.id,
    Task.data,
    Task.meta,
    Task.project_id,
    Task.inner_id,
    Task.created_at,
    Task.updated_at,
    Task.updated_by_id,
    Task.is_labeled,
    Task.overlap,
    Task.total_annotations,
    Task.cancelled_annotations,
    Task.total_predictions,
)
ANNOTATION_COLUMNS = (
    Annotation.task_id,
    Annotation.id,
    Annotation.result,
    Annotation.completed_by_id,
    Annotation.was_cancelled,
    Annotation.ground_truth,
    Annotation.lead_time,
    Annotation.created_at,
    Annotation.updated_at,
    Annotation.last_action,
)
PREDICTION_COLUMNS = (
    Prediction.task_id,
    Prediction.id,
    Prediction.result,
    Prediction.score,
    Prediction.model_version,
    Prediction.created_at,
    Prediction.updated_at,
)


@dataclass(frozen=True)
class ExportRequest:
    project_id: int
    export_type: str
    all_tasks: bool
    ids: tuple[int, ...] = ()
    only_ground_truth: bool = False


@dataclass(frozen=True)
class PreparedExport:
    request: ExportRequest
    writer: ExportWriter
    filename: str


async def prepare_export(session: AsyncSession, actor: Actor, request: ExportRequest) -> PreparedExport:
    """Check access and the format before the first byte is sent."""
    project = await get_project(session, actor, request.project_id)
    writer = writer_for(request.export_type, export_context(config_of(project), project.data_columns))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d-%H-%M")
    return PreparedExport(request, writer, f"project-{project.id}-at-{stamp}.{writer.extension}")


def _task_query(request: ExportRequest, after: int) -> Any:
    query = select(*TASK_COLUMNS).where(Task.project_id == request.project_id, Task.id > after)
    if not request.all_tasks:
        query = query.where(Task.total_annotations + Task.cancelled_annotations > 0)
    if request.ids:
        query = query.where(Task.id.in_(request.ids))
    return query.order_by(Task.id).limit(BATCH)


async def stream_export(
    sessionmaker: async_sessionmaker[AsyncSession], prepared: PreparedExport
) -> AsyncIterator[bytes]:
    """Yield the export's bytes batch by batch from one read transaction; memory stays flat."""
    writer = prepared.writer
    yield writer.start()
    async with sessionmaker() as session:
        after = 0
        while True:
            rows = (await session.execute(_task_query(prepared.request, after))).all()
            if not rows:
                break
            after = rows[-1].id
            for task in await _task_dicts(session, rows, prepared.request.only_ground_truth):
                chunk = writer.write(task)
                if chunk:
                    yield chunk
    yield writer.finish()


async def _task_dicts(
    session: AsyncSession, rows: Sequence[Any], only_ground_truth: bool
) -> list[dict[str, Any]]:
    """Tasks in the JSON export shape, with their annotations and predictions, in three queries."""
    ids = [r.id for r in rows]
    annotations: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    query = select(*ANNOTATION_COLUMNS).where(Annotation.task_id.in_(ids))
    if only_ground_truth:
        query = query.where(Annotation.ground_truth)
    for a in await session.execute(query.order_by(Annotation.id)):
        annotations[a.task_id].append(
            {
                "id": a.id,
                "completed_by": a.completed_by_id,
                "result": a.result,
                "was_cancelled": a.was_cancelled,
                "ground_truth": a.ground_truth,
                "created_at": iso(a.created_at),
                "updated_at": iso(a.updated_at),
                "lead_time": a.lead_time,
                "last_action": a.last_action,
                "task": a.task_id,
            }
        )
    predictions: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    query = select(*PREDICTION_COLUMNS).where(Prediction.task_id.in_(ids)).order_by(Prediction.id)
    for p in await session.execute(query):
        predictions[p.task_id].append(
            {
                "id": p.id,
                "result": p.result,
                "score": p.score,
                "model_version": p.model_version,
                "created_at": iso(p.created_at),
                "updated_at": iso(p.updated_at),
                "task": p.task_id,
            }
        )
    return [
        {
            "id": r.id,
            "data": r.data,
            "meta": r.meta,
            "annotations": annotations[r.id],
            "predictions": predictions[r.id],
            "drafts": [],
            "project": r.project_id,
            "inner_id": r.inner_id,
            "created_at": iso(r.created_at),
            "updated_at": iso(r.updated_at),
            "updated_by": r.updated_by_id,
            "is_labeled": r.is_labeled,
            "overlap": r.overlap,
            "total_annotations": r.total_annotations,
            "cancelled_annotations": r.cancelled_annotations,
            "total_predictions": r.total_predictions,
            "comment_count": 0,
            "unresolved_comment_count": 0,
            "last_comment_updated_at": None,
            "comment_authors": [],
            "file_upload": None,
        }
        for r in rows
    ]


async def list_formats(session: AsyncSession, actor: Actor, project_id: int) -> list[dict[str, Any]]:
    project = await get_project(session, actor, project_id)
    return export_formats(export_context(config_of(project), project.data_columns))
