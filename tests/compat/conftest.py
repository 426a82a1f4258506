"""A live server with an owner whose token the SDK clients use."""

import asyncio

import pytest

from app.db.engine import make_engine, make_sessionmaker
from app.domain.roles import Role
from app.services import users


@pytest.fixture
def sdk_token(live, settings) -> str:
    async def make() -> str:
        engine = make_engine(settings.resolved_database_url)
        async with make_sessionmaker(engine)() as session:
            _, token = await users.create_user(
                session, email="sdk@example.com", password="pw", role=Role.OWNER
            )
            await session.commit()
        await engine.dispose()
        return token

    return asyncio.run(make())
