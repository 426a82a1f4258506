"""Build users and projects for tests, through the services (so every rule applies)."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Organization, Project
from app.domain.roles import Actor, Role
from app.services import projects, users

SENTIMENT = """
<View>
  <Text name="text" value="$review_text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
    <Choice value="Neutral"/>
  </Choices>
</View>
"""


async def make_actor(
    session: AsyncSession,
    role: Role = Role.OWNER,
    *,
    email: str | None = None,
    password: str | None = None,
    organization_id: int | None = None,
) -> tuple[Actor, str]:
    """A user with `role`, their Actor and API token."""
    count = getattr(make_actor, "count", 0) + 1
    make_actor.count = count  # type: ignore[attr-defined]
    user, token = await users.create_user(
        session,
        email=email or f"user{count}@example.com",
        password=password or f"pw-{count}",
        role=role,
        organization_id=organization_id,
    )
    return await users.actor_for(session, user), token


async def make_organization(session: AsyncSession) -> int:
    org = Organization(title="Other org")
    session.add(org)
    await session.flush()
    return org.id


async def make_project(session: AsyncSession, actor: Actor, **fields: Any) -> Project:
    payload = {"title": "Reviews", "label_config": SENTIMENT, **fields}
    return await projects.create_project(session, actor, payload)
