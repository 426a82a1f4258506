"""The recount job, run in-process and by a real arq worker on Redis."""

import pytest
from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker
from sqlalchemy import update

from app.db.engine import make_sessionmaker
from app.db.models import Project
from app.domain.task_import import TaskItem
from app.services import imports
from app.workers.queue import ArqQueue, InProcessQueue
from app.workers.settings import FUNCTIONS, WorkerSettings, shutdown, startup
from tests.factories import make_actor, make_project


async def drifted_project(session) -> int:
    """A project with 3 tasks whose maintained counter says 0."""
    actor, _ = await make_actor(session)
    project = await make_project(session, actor)
    await imports.import_tasks(
        session, actor, project.id, [TaskItem({"review_text": str(i)}) for i in range(3)]
    )
    await session.execute(update(Project).where(Project.id == project.id).values(task_count=0))
    await session.commit()
    return project.id


@pytest.mark.core
async def test_in_process_queue_runs_the_job(session, engine):
    pid = await drifted_project(session)
    queue = InProcessQueue(make_sessionmaker(engine), FUNCTIONS)
    await queue.send("recount_project", {"project_id": pid})
    await queue.drain()
    session.expire_all()
    assert (await session.get(Project, pid)).task_count == 3


async def test_arq_worker_runs_the_job_in_burst_mode(session, engine, settings, redis_url):
    pid = await drifted_project(session)
    redis_settings = RedisSettings.from_dsn(redis_url)
    pool = await create_pool(redis_settings)
    await pool.flushdb()
    await ArqQueue(pool).send("recount_project", {"project_id": pid})

    async def on_startup(ctx):
        ctx["settings"] = settings
        await startup(ctx)

    worker = Worker(
        functions=WorkerSettings.functions,
        redis_settings=redis_settings,
        on_startup=on_startup,
        on_shutdown=shutdown,
        burst=True,
        handle_signals=False,
        poll_delay=0.05,
    )
    await worker.main()
    await worker.close()
    assert worker.jobs_complete == 1
    assert worker.jobs_failed == 0
    session.expire_all()
    assert (await session.get(Project, pid)).task_count == 3
    await pool.aclose()
