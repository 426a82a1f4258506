"""Annotations of a task, and single annotations."""

from fastapi import APIRouter, Response

from app.api.deps import BigId, CurrentActor, Id, JsonObject, Now, Session, flag
from app.api.rest.common import json_response, no_content
from app.services import annotations
from app.services.shapes import annotation_shape

router = APIRouter(tags=["annotations"])


@router.get("/api/tasks/{task_id}/annotations")
async def list_annotations(session: Session, actor: CurrentActor, task_id: BigId) -> Response:
    rows = await annotations.list_annotations(session, actor, task_id)
    return json_response([annotation_shape(a) for a in rows])


@router.post("/api/tasks/{task_id}/annotations")
async def create_annotation(
    session: Session,
    actor: CurrentActor,
    now: Now,
    task_id: BigId,
    body: JsonObject,
    was_cancelled: str | None = None,
) -> Response:
    """Submit, or skip with `was_cancelled` in the body or the query."""
    annotation = await annotations.create_annotation(
        session, actor, task_id, body, cancelled=flag(was_cancelled), now=now
    )
    return json_response(annotation_shape(annotation), status_code=201)


@router.get("/api/annotations/{annotation_id}")
async def get_annotation(session: Session, actor: CurrentActor, annotation_id: Id) -> Response:
    return json_response(annotation_shape(await annotations.get_annotation(session, actor, annotation_id)))


@router.patch("/api/annotations/{annotation_id}")
@router.put("/api/annotations/{annotation_id}")
async def update_annotation(
    session: Session, actor: CurrentActor, now: Now, annotation_id: Id, body: JsonObject
) -> Response:
    annotation = await annotations.update_annotation(session, actor, annotation_id, body, now)
    return json_response(annotation_shape(annotation))


@router.delete("/api/annotations/{annotation_id}")
async def delete_annotation(session: Session, actor: CurrentActor, now: Now, annotation_id: Id) -> Response:
    await annotations.delete_annotation(session, actor, annotation_id, now)
    return no_content()
