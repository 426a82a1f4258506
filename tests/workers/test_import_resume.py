"""A 100 MB import run by a real `quorum worker`, killed mid-way and restarted: exactly the file's tasks."""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from arq import create_pool
from arq.connections import RedisSettings
from sqlalchemy import func, select

from app.db.engine import make_sessionmaker
from app.db.models import ProjectImport, Task
from app.services import imports
from app.services.jobs import take_pending
from app.workers.queue import ArqQueue
from tests.factories import make_actor, make_project

QUORUM = str(Path(sys.executable).parent / "quorum")
TASKS = 100_000


def write_file(path: Path) -> None:
    """About 100 MB of JSON: 100,000 tasks of about 1 KB each."""
    filler = "lorem ipsum dolor sit amet " * 38
    with path.open("wb") as out:
        out.write(b"[")
        for i in range(TASKS):
            out.write(b"," if i else b"")
            out.write(f'{{"data": {{"review_text": "task {i} {filler}"}}}}'.encode())
        out.write(b"]")


async def wait_for(engine, import_id, predicate, timeout):
    maker = make_sessionmaker(engine)
    for _ in range(int(timeout * 10)):
        async with maker() as session:
            job = await session.get(ProjectImport, import_id)
            if predicate(job):
                return job
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"import {import_id} stuck at {job.status} {job.rows_done}/{job.rows_total} {job.error}"
    )


def start_worker(settings, redis_url, tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("QUORUM_")},
        "QUORUM_DATABASE_URL": settings.database_url,
        "QUORUM_REDIS_URL": redis_url,
        "QUORUM_DATA_DIR": str(tmp_path),
    }
    return subprocess.Popen([QUORUM, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_killed_worker_resumes_without_losing_or_duplicating_tasks(
    session, engine, settings, redis_url, tmp_path
):
    path = tmp_path / "big.json"
    await asyncio.to_thread(write_file, path)
    assert path.stat().st_size > 100 * 1024 * 1024
    actor, _ = await make_actor(session)
    project = await make_project(session, actor)
    job = await imports.create_import(session, actor, project.id, path, "big.json", return_task_ids=False)
    await session.commit()
    take_pending(session)
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    await pool.flushdb()
    await ArqQueue(pool).send("run_import", {"import_id": job.id})
    await pool.aclose()

    worker = start_worker(settings, redis_url, tmp_path)
    try:
        await wait_for(engine, job.id, lambda j: j.rows_done >= 20_000, timeout=180)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    killed_at = await wait_for(engine, job.id, lambda j: True, timeout=1)
    assert killed_at.status == "in_progress"
    assert killed_at.rows_done < TASKS

    worker = start_worker(settings, redis_url, tmp_path)
    try:
        done = await wait_for(engine, job.id, lambda j: j.status in ("completed", "failed"), timeout=300)
    finally:
        worker.terminate()
        worker.wait(30)
    assert done.status == "completed", done.error
    assert done.rows_done == TASKS
    counts = await session.execute(
        select(func.count(Task.id), func.count(func.distinct(Task.inner_id)), func.max(Task.inner_id)).where(
            Task.project_id == project.id
        )
    )
    assert tuple(counts.one()) == (TASKS, TASKS, TASKS)
    texts = await session.scalar(
        select(func.count(func.distinct(Task.data["review_text"].as_string()))).where(
            Task.project_id == project.id
        )
    )
    assert texts == TASKS
    assert not path.exists()
