"""Building snapshots and conversions in jobs: leases, files written whole, progress.

A build always starts from scratch: the file is written in one pass over the tasks, so a
half-written file of a runner that died cannot be continued consistently. Each claim draws a runner
token, and only its holder renews the lease or records the outcome: a runner too slow to renew in
time, whose build another runner took over, finds out at its next write and steps aside.
"""

import asyncio
import hashlib
import os
import shutil
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.base import utcnow
from app.db.models import Annotation, ExportFormat, ExportSnapshot, Project, Task, User
from app.domain.errors import Conflict
from app.domain.exports import ExportWriter
from app.domain.exports.json_tasks import JsonWriter
from app.domain.task_import import json_items
from app.services import exports
from app.services.export_snapshots.options import Counters, SnapshotOptions, parse_options, shape_task
from app.services.shapes import user_shape

LEASE = timedelta(seconds=30)
BATCH = 1000
Leased = TypeVar("Leased", ExportSnapshot, ExportFormat)


async def writer_of(session: AsyncSession, project_id: int, export_type: str) -> ExportWriter:
    return exports.project_writer(await session.get_one(Project, project_id), export_type)


def _stored_options(snapshot: ExportSnapshot) -> SnapshotOptions:
    return parse_options(
        snapshot.task_filter_options, snapshot.annotation_filter_options, snapshot.serialization_options
    )


class AtomicFile:
    """Written under a temporary name and renamed into place whole: no reader ever sees half a file."""

    def __init__(self, path: Path):
        self.path = path
        self.part = part_of(path)
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.file: BinaryIO | None = None

    def __enter__(self) -> "AtomicFile":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = self.part.open("wb")
        return self

    def write(self, data: bytes) -> None:
        assert self.file is not None
        self.file.write(data)
        self.md5.update(data)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self.file is not None
        self.file.close()
        if exc is None:
            os.replace(self.part, self.path)
        else:
            self.part.unlink(missing_ok=True)


def part_of(path: Path) -> Path:
    """Where `path` is written until it is whole."""
    return path.with_name(path.name + ".part")


def _runner_file(folder: str, stem: str, extension: str) -> Path:
    """A file name of this runner's own: a second runner of the same job never writes over it."""
    return Path(folder) / f"{stem}-{uuid.uuid4().hex[:12]}.{extension}"


async def _claim(session: AsyncSession, model: type[Leased], row_id: int, runner: str) -> Leased | None:
    """The row with a fresh lease held by `runner`; None when finished, gone, or held by a live runner."""
    row = await session.scalar(
        select(model).where(model.id == row_id).with_for_update().execution_options(populate_existing=True)
    )
    now = utcnow()
    if row is None or row.status != "in_progress" or (row.lease_until and row.lease_until > now):
        return None
    row.lease_until, row.runner = now + LEASE, runner
    return row


async def _held(session: AsyncSession, model: type[Leased], row_id: int, runner: str) -> Leased | None:
    """The row, locked, while `runner` still holds it; None once deleted, finished or taken over."""
    row = await session.get(model, row_id, with_for_update=True, populate_existing=True)
    if row is None or row.status != "in_progress" or row.runner != runner:
        return None
    return row


def _lost(kind: str, row_id: int) -> Conflict:
    return Conflict(f"{kind} {row_id} was deleted, finished or taken over by another runner meanwhile")


async def _settle(
    session: AsyncSession, model: type[Leased], row_id: int, runner: str, **outcome: Any
) -> bool:
    """Record a build's outcome and end its lease, if `runner` still holds it; False once deleted,
    finished or taken over."""
    row = await _held(session, model, row_id, runner)
    if row is None:
        return False
    for column, value in outcome.items():
        setattr(row, column, value)
    row.finished_at, row.lease_until, row.runner = utcnow(), None, None
    return True


@dataclass(frozen=True)
class SnapshotBuild:
    id: int
    runner: str
    path: Path
    request: exports.ExportRequest
    options: SnapshotOptions
    users: dict[int, dict[str, Any]]


async def claim_snapshot(session: AsyncSession, snapshot_id: int) -> SnapshotBuild | None:
    """Take the snapshot's lease and gather what its build needs; a build always starts from scratch."""
    runner = uuid.uuid4().hex
    snapshot = await _claim(session, ExportSnapshot, snapshot_id, runner)
    if snapshot is None:
        return None
    options = _stored_options(snapshot)
    request = exports.ExportRequest(
        project_id=snapshot.project_id,
        export_type="JSON",
        all_tasks=not options.only_with_annotations,
        annotated=options.annotated,
        finished=options.finished,
        skipped=options.skipped,
    )
    total = select(func.count(Task.id)).where(*exports.task_conditions(request))
    snapshot.tasks_total = await session.scalar(total)
    snapshot.tasks_done = 0
    users: dict[int, dict[str, Any]] = {}
    if not options.completed_by_only_id:
        annotators = select(Annotation.completed_by_id).where(Annotation.project_id == snapshot.project_id)
        users = {
            u.id: user_shape(u) for u in await session.scalars(select(User).where(User.id.in_(annotators)))
        }
    path = _runner_file(snapshot.folder, "snapshot", "json")
    return SnapshotBuild(snapshot.id, runner, path, request, options, users)


@dataclass(frozen=True)
class Written:
    path: Path
    md5: str
    counters: Counters


async def write_snapshot(
    sessionmaker: async_sessionmaker[AsyncSession],
    build: SnapshotBuild,
    progress: Callable[[int], Awaitable[None]],
) -> Written:
    """Write the snapshot's JSON file a batch at a time, reporting the tasks read after each batch."""
    counters = Counters()
    writer = JsonWriter()
    read = 0
    with AtomicFile(build.path) as out:
        out.write(writer.start())
        async with aclosing(exports.task_batches(sessionmaker, build.request)) as batches:
            async for tasks in batches:
                for task in tasks:
                    out.write(writer.write(shape_task(task, build.options, build.users, counters)))
                read += len(tasks)
                await progress(read)
        out.write(writer.finish())
    return Written(build.path, out.md5.hexdigest(), counters)


async def record_progress(session: AsyncSession, build: SnapshotBuild, tasks_done: int) -> None:
    """Count the tasks read so far and renew the lease; a build deleted or taken over stops here."""
    snapshot = await _held(session, ExportSnapshot, build.id, build.runner)
    if snapshot is None:
        raise _lost("export snapshot", build.id)
    snapshot.tasks_done = tasks_done
    snapshot.lease_until = utcnow() + LEASE


async def finish_snapshot(session: AsyncSession, build: SnapshotBuild, written: Written) -> bool:
    """Mark it completed with its file; False when it was deleted, finished or taken over."""
    outcome = {"file_path": str(written.path), "md5": written.md5, "counters": vars(written.counters)}
    return await _settle(session, ExportSnapshot, build.id, build.runner, status="completed", **outcome)


async def fail_snapshot(session: AsyncSession, build: SnapshotBuild, message: str) -> bool:
    """Mark it failed with a message for a person; False when it was deleted, finished or taken over."""
    return await _settle(session, ExportSnapshot, build.id, build.runner, status="failed", error=message)


@dataclass(frozen=True)
class ConversionBuild:
    id: int
    runner: str
    snapshot_id: int
    source: Path
    path: Path
    writer: ExportWriter


async def claim_conversion(session: AsyncSession, format_id: int) -> ConversionBuild | None:
    runner = uuid.uuid4().hex
    converted = await _claim(session, ExportFormat, format_id, runner)
    if converted is None:
        return None
    snapshot = await session.get_one(ExportSnapshot, converted.snapshot_id)
    writer = await writer_of(session, snapshot.project_id, converted.export_type)
    path = _runner_file(snapshot.folder, converted.export_type.lower(), writer.extension)
    return ConversionBuild(converted.id, runner, snapshot.id, Path(snapshot.file_path), path, writer)


async def converted_chunks(source: Path, writer: ExportWriter) -> AsyncGenerator[bytes, None]:
    """The snapshot's JSON file through `writer`, parsed a batch of tasks at a time off the event loop."""
    with source.open("rb") as stream:
        tasks = json_items(stream)
        yield writer.start()
        while batch := await asyncio.to_thread(_take, tasks, BATCH):
            yield writer.write_many(batch)
        yield writer.finish()


def _take(items: Iterator[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    return list(islice(items, n))


async def write_conversion(build: ConversionBuild, renew: Callable[[], Awaitable[None]]) -> None:
    """Write the converted file to `build.path`, renewing the lease as it goes."""
    with AtomicFile(build.path) as out:
        async with aclosing(converted_chunks(build.source, build.writer)) as chunks:
            async for chunk in chunks:
                out.write(chunk)
                await renew()


async def renew_conversion(session: AsyncSession, build: ConversionBuild) -> None:
    """Renew the lease; a conversion deleted or taken over stops here."""
    converted = await _held(session, ExportFormat, build.id, build.runner)
    if converted is None:
        raise _lost("export format", build.id)
    converted.lease_until = utcnow() + LEASE


async def finish_conversion(session: AsyncSession, build: ConversionBuild) -> bool:
    """Mark it completed with its file; False when it was deleted, finished or taken over."""
    path = str(build.path)
    return await _settle(session, ExportFormat, build.id, build.runner, status="completed", file_path=path)


async def fail_conversion(session: AsyncSession, build: ConversionBuild, message: str) -> bool:
    """Mark it failed with a message for a person; False when it was deleted, finished or taken over."""
    return await _settle(session, ExportFormat, build.id, build.runner, status="failed", traceback=message)


async def stale_builds(session: AsyncSession) -> tuple[list[int], list[int]]:
    """Snapshots and conversions nobody is running: never started, or whose runner's lease ran out."""
    now = utcnow()
    snapshots = await session.scalars(
        select(ExportSnapshot.id).where(
            ExportSnapshot.status == "in_progress",
            or_(ExportSnapshot.lease_until.is_(None), ExportSnapshot.lease_until < now),
        )
    )
    formats = await session.scalars(
        select(ExportFormat.id).where(
            ExportFormat.status == "in_progress",
            or_(ExportFormat.lease_until.is_(None), ExportFormat.lease_until < now),
        )
    )
    return list(snapshots), list(formats)


async def discard_build(session: AsyncSession, snapshot_id: int, path: Path) -> None:
    """Remove what a runner that lost its build wrote: its file, whole or part, and the snapshot's folder
    if the snapshot is gone (its deletion may have removed the folder before this runner made it again)."""
    path.unlink(missing_ok=True)
    part_of(path).unlink(missing_ok=True)
    if await session.get(ExportSnapshot, snapshot_id) is None:
        remove_folder(str(path.parent))


def remove_folder(folder: str) -> None:
    """A deleted snapshot's files: its JSON, its formats, and what dead runners left half-written."""
    shutil.rmtree(folder, ignore_errors=True)
