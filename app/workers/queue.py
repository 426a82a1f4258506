"""Sending jobs: to arq when Redis is configured, to an in-process runner otherwise.

Both run the same job functions with the same `ctx`, so a job behaves the same on a
laptop without Redis and on a cluster of arq workers.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger("quorum.jobs")

JobFunction = Callable[..., Awaitable[Any]]


class Queue(Protocol):
    async def send(self, name: str, kwargs: dict[str, Any]) -> None: ...

    async def close(self) -> None: ...


class InProcessQueue:
    """Runs each job as a task of this process, with the context an arq worker would give it."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], functions: dict[str, JobFunction]):
        self.ctx: dict[str, Any] = {"sessionmaker": sessionmaker, "queue": self}
        self.functions = functions
        self.running: set[asyncio.Task[None]] = set()
        self.schedules: list[asyncio.Task[None]] = []

    async def send(self, name: str, kwargs: dict[str, Any]) -> None:
        task = asyncio.create_task(self._run(name, kwargs))
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def _run(self, name: str, kwargs: dict[str, Any]) -> None:
        try:
            await self.functions[name](self.ctx, **kwargs)
        except Exception:
            log.exception("job %s failed", name)

    def every(self, seconds: float, name: str) -> None:
        """Run job `name` periodically, as arq's cron does on a worker."""

        async def loop() -> None:
            while True:
                await self._run(name, {})
                await asyncio.sleep(seconds)

        self.schedules.append(asyncio.create_task(loop()))

    async def drain(self) -> None:
        """Wait for every job sent so far (and the jobs they send)."""
        while self.running:
            await asyncio.gather(*list(self.running))

    async def close(self) -> None:
        for schedule in self.schedules:
            schedule.cancel()
        await asyncio.gather(*self.schedules, return_exceptions=True)
        await self.drain()


class ArqQueue:
    """Enqueues on Redis for `quorum worker` processes."""

    def __init__(self, pool: ArqRedis):
        self.pool = pool

    @classmethod
    async def connect(cls, redis_url: str) -> "ArqQueue":
        return cls(await create_pool(RedisSettings.from_dsn(redis_url)))

    async def send(self, name: str, kwargs: dict[str, Any]) -> None:
        await self.pool.enqueue_job(name, **kwargs)

    async def close(self) -> None:
        await self.pool.aclose()


async def dispatch(queue: Queue, pending: list[tuple[str, dict[str, Any]]]) -> None:
    """Send jobs a committed unit of work asked for."""
    for name, kwargs in pending:
        await queue.send(name, kwargs)
