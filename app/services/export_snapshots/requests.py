"""The snapshot requests of the API: create, list, get, delete, convert, download."""

import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ExportFormat, ExportSnapshot, User
from app.domain.errors import Conflict, Forbidden, Invalid, NotFound
from app.domain.roles import Actor
from app.services.export_snapshots.builds import converted_chunks, writer_of
from app.services.export_snapshots.options import parse_options
from app.services.jobs import enqueue
from app.services.projects import get_project

LIST_LIMIT = 100
ORDERINGS = {
    "created_at": (ExportSnapshot.created_at, ExportSnapshot.id),
    "-created_at": (ExportSnapshot.created_at.desc(), ExportSnapshot.id.desc()),
    "id": (ExportSnapshot.id,),
    "-id": (ExportSnapshot.id.desc(),),
}


@dataclass(frozen=True)
class SnapshotView:
    snapshot: ExportSnapshot
    creator: User | None
    formats: list[ExportFormat]


@dataclass(frozen=True)
class Download:
    """A stored file (`path`), or a conversion made while it is sent (`chunks`)."""

    filename: str
    media_type: str
    path: Path | None = None
    chunks: AsyncGenerator[bytes, None] | None = None


async def create_snapshot(
    session: AsyncSession,
    actor: Actor,
    project_id: int,
    *,
    title: Any,
    task_filter_options: Any = None,
    annotation_filter_options: Any = None,
    serialization_options: Any = None,
    exports_dir: Path,
) -> SnapshotView:
    """Record the snapshot, with its options checked, and ask a job to build it."""
    project = await get_project(session, actor, project_id)
    if title is not None and not isinstance(title, str):
        raise Invalid("title must be a string", field="title")
    options = parse_options(task_filter_options, annotation_filter_options, serialization_options)
    snapshot = ExportSnapshot(
        project_id=project.id,
        created_by_id=actor.user_id,
        title=(title or "")[:2048],
        folder=str(exports_dir / uuid.uuid4().hex),
        **options.as_ls(),
    )
    session.add(snapshot)
    await session.flush()
    enqueue(session, "run_export_snapshot", snapshot_id=snapshot.id)
    return SnapshotView(snapshot, await session.get(User, actor.user_id), [])


async def _snapshot(
    session: AsyncSession, actor: Actor, project_id: int, snapshot_id: int, *, for_update: bool = False
) -> ExportSnapshot:
    project = await get_project(session, actor, project_id)
    query = select(ExportSnapshot).where(
        ExportSnapshot.id == snapshot_id, ExportSnapshot.project_id == project.id
    )
    snapshot = await session.scalar(query.with_for_update() if for_update else query)
    if snapshot is None:
        raise NotFound(f"Export snapshot {snapshot_id} does not exist in project {project_id}.")
    return snapshot


async def _views(session: AsyncSession, snapshots: list[ExportSnapshot]) -> list[SnapshotView]:
    """Snapshots with their creators and formats, in two queries."""
    ids = [s.id for s in snapshots]
    creator_ids = {s.created_by_id for s in snapshots if s.created_by_id is not None}
    creators = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(creator_ids)))}
    formats: dict[int, list[ExportFormat]] = {i: [] for i in ids}
    rows = await session.scalars(
        select(ExportFormat).where(ExportFormat.snapshot_id.in_(ids)).order_by(ExportFormat.id)
    )
    for row in rows:
        formats[row.snapshot_id].append(row)
    return [
        SnapshotView(s, creators.get(s.created_by_id) if s.created_by_id else None, formats[s.id])
        for s in snapshots
    ]


async def list_snapshots(
    session: AsyncSession, actor: Actor, project_id: int, *, ordering: str | None = None
) -> list[SnapshotView]:
    """The project's newest 100 snapshots (or in the asked order)."""
    project = await get_project(session, actor, project_id)
    order = ORDERINGS.get(ordering or "-created_at")
    if order is None:
        raise Invalid(f"ordering must be one of {', '.join(ORDERINGS)}", field="ordering")
    rows = await session.scalars(
        select(ExportSnapshot)
        .where(ExportSnapshot.project_id == project.id)
        .order_by(*order)
        .limit(LIST_LIMIT)
    )
    return await _views(session, list(rows))


async def get_snapshot(
    session: AsyncSession, actor: Actor, project_id: int, snapshot_id: int
) -> SnapshotView:
    return (await _views(session, [await _snapshot(session, actor, project_id, snapshot_id)]))[0]


async def delete_snapshot(session: AsyncSession, actor: Actor, project_id: int, snapshot_id: int) -> None:
    """Its creator or a manager deletes it; its files go once the deletion commits."""
    snapshot = await _snapshot(session, actor, project_id, snapshot_id)
    if snapshot.created_by_id != actor.user_id and not actor.manages:
        raise Forbidden("only its creator or a manager deletes an export snapshot")
    await session.execute(delete(ExportFormat).where(ExportFormat.snapshot_id == snapshot.id))
    await session.delete(snapshot)
    await session.flush()
    enqueue(session, "remove_export_files", folder=snapshot.folder)


def _ready(snapshot: ExportSnapshot) -> Path:
    """The snapshot's JSON file, or why there is none yet."""
    if snapshot.status == "failed":
        raise NotFound(f"Export snapshot {snapshot.id} failed: {snapshot.error}")
    if snapshot.status != "completed":
        raise NotFound(f"Export snapshot {snapshot.id} is not ready yet: it is {snapshot.status}.")
    path = Path(snapshot.file_path)
    if not path.is_file():
        raise NotFound(f"The file of export snapshot {snapshot.id} is missing from the data directory.")
    return path


async def convert_snapshot(
    session: AsyncSession, actor: Actor, project_id: int, snapshot_id: int, *, export_type: Any
) -> ExportFormat:
    """Ask for the snapshot in another format; asking again returns the same one (a failed one is retried)."""
    if not isinstance(export_type, str) or not export_type:
        raise Invalid("export_type is required, e.g. CSV", field="export_type")
    name = export_type.upper()
    snapshot = await _snapshot(session, actor, project_id, snapshot_id, for_update=True)
    if name == "JSON":
        raise Invalid("The snapshot is JSON already; download it with exportType=JSON.", field="export_type")
    await writer_of(session, snapshot.project_id, name)
    if snapshot.status != "completed":
        raise Conflict(
            f"Export snapshot {snapshot.id} is {snapshot.status}; convert it once it is completed."
        )
    existing = await session.scalar(
        select(ExportFormat).where(ExportFormat.snapshot_id == snapshot.id, ExportFormat.export_type == name)
    )
    if existing is not None and existing.status != "failed":
        return existing
    converted = existing or ExportFormat(snapshot_id=snapshot.id, export_type=name)
    converted.status, converted.traceback = "in_progress", ""
    converted.lease_until, converted.runner = None, None  # waiting for a runner, as when first asked for
    session.add(converted)
    await session.flush()
    enqueue(session, "run_export_conversion", format_id=converted.id)
    return converted


async def prepare_download(
    session: AsyncSession, actor: Actor, project_id: int, snapshot_id: int, *, export_type: str | None
) -> Download:
    """The snapshot's JSON, a stored conversion, or (as Label Studio does) one made while it is sent."""
    snapshot = await _snapshot(session, actor, project_id, snapshot_id)
    name = (export_type or "JSON").upper()
    writer = await writer_of(session, snapshot.project_id, name)
    source = _ready(snapshot)
    stamp = snapshot.created_at.strftime("%Y-%m-%d-%H-%M")
    filename = f"project-{snapshot.project_id}-at-{stamp}-{snapshot.md5[:8]}.{writer.extension}"
    if name == "JSON":
        return Download(filename, writer.media_type, path=source)
    stored = await session.scalar(
        select(ExportFormat.file_path).where(
            ExportFormat.snapshot_id == snapshot.id,
            ExportFormat.export_type == name,
            ExportFormat.status == "completed",
        )
    )
    if stored and Path(stored).is_file():
        return Download(filename, writer.media_type, path=Path(stored))
    return Download(filename, writer.media_type, chunks=converted_chunks(source, writer))
