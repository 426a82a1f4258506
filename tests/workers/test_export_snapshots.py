"""Snapshot builds whose runner died are started again by a restarted arq worker; a live one is left alone;
a runner that lost its build (deleted, or taken over) steps aside and takes back what it wrote."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.db.base import utcnow
from app.db.engine import make_sessionmaker
from app.db.models import ExportFormat, ExportSnapshot
from app.domain.roles import Actor
from app.domain.task_import import TaskItem
from app.services import export_snapshots, imports
from app.services.export_snapshots.builds import part_of
from app.services.jobs import take_pending
from app.workers.export_snapshots import build_conversion, build_snapshot, run_export_snapshot
from app.workers.queue import InProcessQueue, dispatch
from app.workers.settings import FUNCTIONS, WorkerSettings, shutdown, startup
from tests.factories import make_actor, make_project

CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Negative"]}}
]


async def project_with_snapshot(session, tmp_path, n=2500):
    """A project of `n` tasks (one annotated) and a snapshot recorded but never sent to a runner."""
    actor, _ = await make_actor(session)
    project = await make_project(session, actor)
    items = [TaskItem({"review_text": f"r{i}"}) for i in range(n)]
    items[1] = TaskItem({"review_text": "r1"}, annotations=[{"result": CHOICE}])
    await imports.import_tasks(session, actor, project.id, items)
    view = await export_snapshots.create_snapshot(
        session, actor, project.id, title="nightly", exports_dir=tmp_path / "exports"
    )
    await session.commit()
    take_pending(session)
    return actor, project, view.snapshot.id


async def run_worker(settings, redis_url):
    """A restarted `quorum worker`: it reaps at startup and runs what it found, then stops (burst)."""
    redis_settings = RedisSettings.from_dsn(redis_url)

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
    return worker


async def test_restarted_worker_rebuilds_a_snapshot_whose_runner_died(session, settings, redis_url, tmp_path):
    actor, project, export_id = await project_with_snapshot(session, tmp_path)
    pid = project.id
    dead_runner = await export_snapshots.get_snapshot(session, actor, pid, export_id)
    folder = Path(dead_runner.snapshot.folder)
    folder.mkdir(parents=True)
    (folder / "snapshot-dead.json.part").write_bytes(b'[{"id": 1')
    await session.execute(
        update(ExportSnapshot)
        .where(ExportSnapshot.id == export_id)
        .values(tasks_done=1000, lease_until=utcnow() - timedelta(seconds=1))
    )
    await session.commit()
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    await pool.flushdb()
    await pool.aclose()

    worker = await run_worker(settings, redis_url)
    assert worker.jobs_failed == 0
    session.expire_all()
    snapshot = await session.get_one(ExportSnapshot, export_id)
    assert snapshot.status == "completed", snapshot.error
    assert (snapshot.tasks_done, snapshot.tasks_total) == (2500, 2500)
    assert snapshot.counters == {"task_number": 2500, "annotation_number": 1, "prediction_number": 0}
    tasks = orjson.loads(Path(snapshot.file_path).read_bytes())
    assert [t["data"]["review_text"] for t in tasks] == [f"r{i}" for i in range(2500)]
    assert tasks[1]["annotations"][0]["result"] == CHOICE

    converted = await export_snapshots.convert_snapshot(session, actor, pid, export_id, export_type="CSV")
    format_id = converted.id
    await session.commit()
    take_pending(session)
    await run_worker(settings, redis_url)
    session.expire_all()
    converted = await session.get_one(ExportFormat, format_id)
    assert converted.status == "completed", converted.traceback
    lines = Path(converted.file_path).read_text().splitlines()
    assert len(lines) == 2
    assert "Negative" in lines[1]


@pytest.mark.core
async def test_a_second_runner_steps_aside_while_the_lease_is_live(session, engine, tmp_path):
    """Also a build of more than one batch on SQLite: its progress is written between batches."""
    _, _, export_id = await project_with_snapshot(session, tmp_path, n=1500)
    live = utcnow() + timedelta(seconds=20)
    await session.execute(
        update(ExportSnapshot).where(ExportSnapshot.id == export_id).values(lease_until=live)
    )
    await session.commit()
    queue = InProcessQueue(make_sessionmaker(engine), FUNCTIONS)
    assert await run_export_snapshot(queue.ctx, export_id) == "not claimed"
    await session.execute(
        update(ExportSnapshot).where(ExportSnapshot.id == export_id).values(lease_until=None)
    )
    await session.commit()
    assert await run_export_snapshot(queue.ctx, export_id) == "exported 1500 tasks"
    assert await run_export_snapshot(queue.ctx, export_id) == "not claimed"
    await queue.drain()
    session.expire_all()
    snapshot = await session.get_one(ExportSnapshot, export_id)
    assert (snapshot.status, snapshot.tasks_done, snapshot.tasks_total) == ("completed", 1500, 1500)


async def in_unit(units, call, *args):
    """`call(session, *args)` in a transaction of its own, committed when it returns, as a runner's
    job units do."""
    async with units() as session:
        result = await call(session, *args)
        await session.commit()
    return result


async def expire_lease(units, model, row_id):
    """The runner holding it is too slow: its lease ran out without its knowing."""
    async with units() as session:
        past = utcnow() - timedelta(seconds=1)
        await session.execute(update(model).where(model.id == row_id).values(lease_until=past))
        await session.commit()


async def stored(units, model, row_id):
    async with units() as session:
        return await session.get(model, row_id)


@dataclass
class Conversion:
    actor: Actor
    project_id: int
    export_id: int
    format_id: int
    units: async_sessionmaker
    queue: InProcessQueue


async def snapshot_with_conversion(session, engine, tmp_path) -> Conversion:
    """A built snapshot of three tasks and a CSV conversion of it asked for but not yet claimed."""
    actor, project, export_id = await project_with_snapshot(session, tmp_path, n=3)
    units = make_sessionmaker(engine)
    queue = InProcessQueue(units, FUNCTIONS)
    assert await run_export_snapshot(queue.ctx, export_id) == "exported 3 tasks"
    converted = await export_snapshots.convert_snapshot(
        session, actor, project.id, export_id, export_type="CSV"
    )
    await session.commit()
    take_pending(session)
    return Conversion(actor, project.id, export_id, converted.id, units, queue)


@pytest.mark.core
@pytest.mark.parametrize("n", [3, 1500], ids=["lost-at-finish", "lost-at-progress"])
async def test_a_runner_whose_snapshot_was_taken_over_steps_aside_and_removes_its_file(
    session, engine, tmp_path, n
):
    _, _, export_id = await project_with_snapshot(session, tmp_path, n=n)
    units = make_sessionmaker(engine)
    queue = InProcessQueue(units, FUNCTIONS)
    slow = await in_unit(units, export_snapshots.claim_snapshot, export_id)
    await expire_lease(units, ExportSnapshot, export_id)
    fast = await in_unit(units, export_snapshots.claim_snapshot, export_id)

    assert await build_snapshot(queue.ctx, slow) == "deleted or taken over"
    assert not slow.path.exists()
    assert not part_of(slow.path).exists()
    snapshot = await stored(units, ExportSnapshot, export_id)
    assert (snapshot.status, snapshot.file_path, snapshot.runner) == ("in_progress", "", fast.runner)

    assert await build_snapshot(queue.ctx, fast) == f"exported {n} tasks"
    snapshot = await stored(units, ExportSnapshot, export_id)
    assert (snapshot.status, snapshot.file_path) == ("completed", str(fast.path))
    assert list(fast.path.parent.iterdir()) == [fast.path]


@pytest.mark.core
async def test_a_runner_whose_conversion_was_taken_over_steps_aside_and_removes_its_file(
    session, engine, tmp_path
):
    c = await snapshot_with_conversion(session, engine, tmp_path)
    slow = await in_unit(c.units, export_snapshots.claim_conversion, c.format_id)
    await expire_lease(c.units, ExportFormat, c.format_id)
    fast = await in_unit(c.units, export_snapshots.claim_conversion, c.format_id)

    assert await build_conversion(c.queue.ctx, slow) == "deleted or taken over"
    assert not slow.path.exists()
    assert not part_of(slow.path).exists()
    assert await build_conversion(c.queue.ctx, fast) == "converted"
    converted = await stored(c.units, ExportFormat, c.format_id)
    assert (converted.status, converted.file_path) == ("completed", str(fast.path))
    assert fast.path.is_file()


async def delete_while_claimed(session, queue, actor, project_id, export_id):
    """Delete the snapshot and run the removal of its files it asks for, as a request and its job do."""
    await export_snapshots.delete_snapshot(session, actor, project_id, export_id)
    await session.commit()
    await dispatch(queue, take_pending(session))
    await queue.drain()


@pytest.mark.core
@pytest.mark.parametrize("n", [3, 1500], ids=["lost-at-finish", "lost-at-progress"])
async def test_a_snapshot_deleted_while_it_builds_leaves_no_folder(session, engine, tmp_path, caplog, n):
    """The deletion removed the folder before the runner made it: the runner removes it again, and
    reports no error (nothing went wrong)."""
    actor, project, export_id = await project_with_snapshot(session, tmp_path, n=n)
    units = make_sessionmaker(engine)
    queue = InProcessQueue(units, FUNCTIONS)
    build = await in_unit(units, export_snapshots.claim_snapshot, export_id)
    await delete_while_claimed(session, queue, actor, project.id, export_id)

    assert await build_snapshot(queue.ctx, build) == "deleted or taken over"
    assert not build.path.parent.exists()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.core
async def test_a_snapshot_deleted_while_it_converts_leaves_no_folder(session, engine, tmp_path, caplog):
    c = await snapshot_with_conversion(session, engine, tmp_path)
    build = await in_unit(c.units, export_snapshots.claim_conversion, c.format_id)
    await delete_while_claimed(session, c.queue, c.actor, c.project_id, c.export_id)

    assert await build_conversion(c.queue.ctx, build) == "deleted or taken over"
    assert not build.path.parent.exists()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
