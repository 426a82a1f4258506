"""Request dependencies: the unit-of-work session, the acting user, parsed bodies and flags."""

import codecs
import json
import secrets
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import User
from app.domain import json_text
from app.domain.errors import Forbidden, Invalid, TooLarge, Unauthorized
from app.domain.roles import Actor
from app.services import users
from app.workers.unit import unit_of_work

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent."""
    async with unit_of_work(request.app.state.sessionmaker, request.app.state.queue) as session:
        yield session


Session = Annotated[AsyncSession, Depends(_session, scope="function")]

# Path ids as the database stores them: past these a value names nothing and the driver would refuse
# it, so it is a 400 naming the parameter rather than a database error.
MAX_BIG_ID = 2**63 - 1
Id = Annotated[int, Path(le=2**31 - 1)]
BigId = Annotated[int, Path(le=MAX_BIG_ID)]  # task ids


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _principal(request: Request, session: Session) -> users.Principal:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() in ("token", "bearer") and key:
        return await users.principal_by_token(session, key)
    if api_key := request.headers.get("x-api-key"):
        return await users.principal_by_token(session, api_key)
    user_id = request.session.get("user_id")
    if user_id is None:
        raise Unauthorized("Authentication credentials were not provided.")
    if request.method in UNSAFE and not _csrf_ok(request):
        raise Forbidden("CSRF check failed: send the X-CSRFToken header from the page.")
    principal = await users.principal_by_id(session, user_id)
    if principal is None:
        request.session.clear()
        raise Unauthorized("Your session has ended; sign in again.")
    return principal


Principal = Annotated[users.Principal, Depends(_principal)]


def _csrf_ok(request: Request) -> bool:
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrftoken") or request.headers.get("x-csrf-token")
    return bool(expected and sent and secrets.compare_digest(expected, sent))


async def _user(session: Session, principal: Principal) -> User:
    return await users.user_of(session, principal)


CurrentUser = Annotated[User, Depends(_user)]


async def _actor(principal: Principal) -> Actor:
    return principal.acting()


CurrentActor = Annotated[Actor, Depends(_actor)]


async def json_body(request: Request) -> Any:
    """The request's JSON, with a message that says what is wrong when it is not JSON."""
    body = await request.body()
    limit = settings_of(request).max_json_bytes
    if len(body) > limit:
        raise TooLarge(f"The JSON body is larger than the limit of {limit} bytes.")
    if not body:
        return {}
    try:
        return json_text.loads(body.removeprefix(codecs.BOM_UTF8))  # Windows tools may begin with one
    except json.JSONDecodeError as exc:
        raise Invalid(f"JSON parse error - {exc}") from None


JsonBody = Annotated[Any, Depends(json_body)]


async def json_object(body: JsonBody) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Invalid("expected a JSON object")
    return body


JsonObject = Annotated[dict[str, Any], Depends(json_object)]


async def _now(request: Request) -> datetime:
    """The app's clock (replaceable in tests, so expiry is tested without sleeping)."""
    now: datetime = request.app.state.clock()
    return now


Now = Annotated[datetime, Depends(_now)]


def flag(value: str | None, default: bool = False) -> bool:
    """Query booleans as the clients send them: true/True/1 and false/False/0."""
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise Invalid(f"'{value}' is not a boolean; use true or false")


def int_list(values: list[str]) -> list[int]:
    """Ids from repeated keys (`ids=1&ids=2`) or comma lists (`ids=1,2`); checked here, since a
    streamed answer (an export) has begun before the database sees them."""
    out = []
    for value in values:
        for part in value.split(","):
            if part.strip():
                try:
                    number = int(part)
                except ValueError:
                    number = -1
                if not 0 < number <= MAX_BIG_ID:
                    raise Invalid(f"'{part}' is not an id", field="ids")
                out.append(number)
    return out
