"""Drafts of the caller: save (keeping the reservation alive), read, update, delete."""

from fastapi import APIRouter, Response

from app.api.deps import BigId, CurrentActor, Id, JsonObject, Now, Session
from app.api.rest.common import json_response, no_content
from app.services import drafts
from app.services.shapes import draft_shape

router = APIRouter(tags=["drafts"])


@router.get("/api/tasks/{task_id}/drafts")
async def list_drafts(session: Session, actor: CurrentActor, task_id: BigId) -> Response:
    return json_response([draft_shape(d) for d in await drafts.list_drafts(session, actor, task_id)])


@router.post("/api/tasks/{task_id}/drafts")
async def save_draft(
    session: Session, actor: CurrentActor, now: Now, task_id: BigId, body: JsonObject
) -> Response:
    return json_response(
        draft_shape(await drafts.save_draft(session, actor, task_id, body, now)), status_code=201
    )


@router.get("/api/drafts/{draft_id}")
async def get_draft(session: Session, actor: CurrentActor, draft_id: Id) -> Response:
    return json_response(draft_shape(await drafts.get_draft(session, actor, draft_id)))


@router.patch("/api/drafts/{draft_id}")
async def update_draft(
    session: Session, actor: CurrentActor, now: Now, draft_id: Id, body: JsonObject
) -> Response:
    return json_response(draft_shape(await drafts.update_draft(session, actor, draft_id, body, now)))


@router.delete("/api/drafts/{draft_id}")
async def delete_draft(session: Session, actor: CurrentActor, draft_id: Id) -> Response:
    await drafts.delete_draft(session, actor, draft_id)
    return no_content()
