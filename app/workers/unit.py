"""The unit-of-work boundary shared by requests and jobs: one transaction, jobs sent after commit."""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.errors import QuorumError
from app.services.jobs import take_pending
from app.workers.queue import Queue, dispatch


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession], queue: Queue
) -> AsyncIterator[AsyncSession]:
    """Commit on success, roll back on any error (unless the error keeps what was written before it);
    jobs asked for are sent only once committed."""
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except QuorumError as exc:
            await (session.commit() if exc.keep_changes else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise
        await dispatch(queue, take_pending(session))


def job_unit(ctx: dict[str, Any]) -> AbstractAsyncContextManager[AsyncSession]:
    """A job's unit of work, from the context an arq worker (or the in-process queue) gives it."""
    return unit_of_work(ctx["sessionmaker"], ctx["queue"])
