"""Build users and projects for tests, through the services (so every rule applies)."""

import asyncio
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

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


async def left_open(engine: AsyncEngine) -> int:
    """Other connections to the test database idling inside a transaction (PostgreSQL), after
    giving them a moment to finish: what a reader that was never closed leaves behind."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND state = 'idle in transaction'"
    )
    count = 0
    for _ in range(50):
        async with engine.connect() as conn:
            count = int(await conn.scalar(query) or 0)
        if count == 0:
            break
        await asyncio.sleep(0.1)
    return count
