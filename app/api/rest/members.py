"""Project members, in the shape the legacy client's `add_member` / `get_members` use."""

from fastapi import APIRouter, Response

from app.api.deps import CurrentActor, Id, JsonObject, Session
from app.api.rest.common import json_response, no_content
from app.domain.errors import Invalid
from app.services import members
from app.services.shapes import user_shape

router = APIRouter(tags=["members"])


def _member_shape(view: members.MemberView) -> dict[str, object]:
    member = view.member
    return {
        "id": member.id,
        "user": user_shape(view.user),
        "role": member.role,
        "paused": bool(view.pause_reason),
        "pause_reason": view.pause_reason,
        "evaluation_score": member.evaluation_score,
        "evaluation_tasks": member.evaluation_tasks,
    }


@router.get("/api/projects/{project_id}/members")
async def list_members(session: Session, actor: CurrentActor, project_id: Id) -> Response:
    rows = await members.list_members(session, actor, project_id)
    return json_response([_member_shape(view) for view in rows])


@router.post("/api/projects/{project_id}/members")
async def add_member(session: Session, actor: CurrentActor, project_id: Id, body: JsonObject) -> Response:
    user_id = body.get("user")
    if not isinstance(user_id, int):
        raise Invalid("user must be a user id", field="user")
    member = await members.add_member(session, actor, project_id, user_id, body.get("role"))
    return json_response({"id": member.id, "user": user_id, "role": member.role}, status_code=201)


@router.delete("/api/projects/{project_id}/members/{user_id}")
async def remove_member(session: Session, actor: CurrentActor, project_id: Id, user_id: Id) -> Response:
    await members.remove_member(session, actor, project_id, user_id)
    return no_content()
