"""Signed-in API clients for each role."""

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.engine import make_sessionmaker
from app.domain.roles import Role
from tests.factories import make_actor


class Team:
    """Tokens of an owner, a manager, a reviewer and an annotator of one organization."""

    def __init__(self, client: httpx.AsyncClient):
        self.client = client
        self.tokens: dict[Role, str] = {}
        self.ids: dict[Role, int] = {}

    def headers(self, role: Role = Role.OWNER) -> dict[str, str]:
        return {"Authorization": f"Token {self.tokens[role]}"}


@pytest.fixture
async def team(client: httpx.AsyncClient, engine: AsyncEngine) -> AsyncIterator[Team]:
    team = Team(client)
    async with make_sessionmaker(engine)() as session:
        for role in Role:
            actor, token = await make_actor(
                session, role, email=f"{role.value}@example.com", password=f"pw-{role.value}"
            )
            team.tokens[role] = token
            team.ids[role] = actor.user_id
        await session.commit()
    return team
