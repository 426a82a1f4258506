"""The job boundary: one transaction per job, and jobs it asks for sent after the commit."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.services.jobs import take_pending
from app.workers.queue import dispatch


@asynccontextmanager
async def unit_of_work(ctx: dict[str, Any]) -> AsyncIterator[AsyncSession]:
    async with ctx["sessionmaker"]() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        await dispatch(ctx["queue"], take_pending(session))
