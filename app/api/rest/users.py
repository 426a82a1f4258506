"""Current user, token, users of the organization."""

from fastapi import APIRouter, Response

from app.api.deps import CurrentActor, CurrentUser, Id, JsonObject, Session
from app.api.rest.common import json_response
from app.domain.errors import Invalid, NotFound
from app.domain.roles import Role
from app.services import users
from app.services.shapes import user_shape

router = APIRouter(tags=["users"])


@router.get("/api/current-user")
@router.get("/api/current-user/whoami")
async def current_user(session: Session, user: CurrentUser, actor: CurrentActor) -> Response:
    return json_response(user_shape(user, await users.role_of(session, actor.organization_id, user.id)))


@router.get("/api/current-user/token")
async def current_token(session: Session, user: CurrentUser) -> Response:
    return json_response({"token": await users.get_token(session, user.id)})


@router.post("/api/current-user/reset-token")
async def reset_token(session: Session, user: CurrentUser) -> Response:
    return json_response({"token": await users.reset_token(session, user.id)})


@router.get("/api/users")
async def list_users(session: Session, actor: CurrentActor) -> Response:
    """A plain list, as both clients expect."""
    return json_response([user_shape(u, role) for u, role in await users.list_users(session, actor)])


@router.post("/api/users")
async def create_user(session: Session, actor: CurrentActor, body: JsonObject) -> Response:
    role = body.get("role", Role.ANNOTATOR.value)
    for name in ("username", "password"):
        if not isinstance(body.get(name) or "", str):
            raise Invalid(f"{name} must be a string", field=name)
    if role not in Role.__members__.values():
        raise Invalid(f"role must be one of {', '.join(r.value for r in Role)}", field="role")
    user = await users.invite_user(
        session,
        actor,
        email=str(body.get("email", "")),
        username=body.get("username") or None,
        first_name=str(body.get("first_name") or ""),
        last_name=str(body.get("last_name") or ""),
        phone=str(body.get("phone") or ""),
        password=body.get("password") or None,
        role=Role(role),
    )
    return json_response(user_shape(user, role), status_code=201)


@router.get("/api/users/{user_id}")
async def get_user(session: Session, actor: CurrentActor, user_id: Id) -> Response:
    user = await users.get_user(session, actor, user_id)
    return json_response(user_shape(user, await users.role_of(session, actor.organization_id, user.id)))


@router.get("/api/organizations/{organization_id}")
async def get_organization(actor: CurrentActor, organization_id: Id) -> Response:
    if organization_id != actor.organization_id:
        raise NotFound("Not found.")
    return json_response({"id": organization_id, "title": "Quorum"})
