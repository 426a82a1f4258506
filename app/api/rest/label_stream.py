"""The label stream: `GET /api/projects/{id}/next`, and pausing members."""

from fastapi import APIRouter, Response

from app.api.deps import CurrentActor, Id, JsonObject, Now, Session
from app.api.rest.common import json_response
from app.services import label_stream, members
from app.services.drafts import drafts_of
from app.services.predictions import predictions_of
from app.services.shapes import task_shape

router = APIRouter(tags=["label stream"])


@router.get("/api/projects/{project_id}/next")
async def next_task(session: Session, actor: CurrentActor, now: Now, project_id: Id) -> Response:
    """The next task with its predictions and the caller's drafts, or 404 saying why there is none."""
    served = await label_stream.next_task(session, actor, project_id, now)
    if served.task is None:
        return json_response({"detail": served.reason}, status_code=404)
    task = served.task
    shape = task_shape(
        task,
        predictions=(await predictions_of(session, [task.id]))[task.id] if task.total_predictions else [],
        drafts=await drafts_of(session, task.id, actor.user_id) if task.id in served.drafted else [],
    )
    shape["queue"] = served.reason
    return json_response(shape)


@router.post("/api/projects/{project_id}/members/{user_id}/pause")
async def pause_member(
    session: Session, actor: CurrentActor, project_id: Id, user_id: Id, body: JsonObject
) -> Response:
    member = await members.set_paused(
        session, actor, project_id, user_id, paused=True, reason=str(body.get("reason") or "")
    )
    return json_response({"user": user_id, "paused": member.is_paused, "reason": member.pause_reason})


@router.post("/api/projects/{project_id}/members/{user_id}/unpause")
async def unpause_member(session: Session, actor: CurrentActor, project_id: Id, user_id: Id) -> Response:
    member = await members.set_paused(session, actor, project_id, user_id, paused=False, reason="")
    return json_response({"user": user_id, "paused": member.is_paused, "reason": member.pause_reason})
