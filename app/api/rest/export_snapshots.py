"""Export snapshots in Label Studio's shape: create, list, get, convert, download, delete."""

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from app.api.deps import CurrentActor, Id, JsonObject, Session, settings_of
from app.api.rest.common import ClosingStream, json_response, no_content
from app.services import export_snapshots
from app.services.export_snapshots import SnapshotView
from app.services.shapes import iso, user_shape

router = APIRouter(tags=["export"])


def _shape(view: SnapshotView) -> dict[str, Any]:
    snapshot = view.snapshot
    return {
        "id": snapshot.id,
        "title": snapshot.title,
        "created_by": user_shape(view.creator) if view.creator else None,
        "created_at": iso(snapshot.created_at),
        "finished_at": iso(snapshot.finished_at),
        "status": snapshot.status,
        "error": snapshot.error or None,
        "md5": snapshot.md5,
        "counters": snapshot.counters,
        "progress": {"tasks_done": snapshot.tasks_done, "tasks_total": snapshot.tasks_total},
        "converted_formats": [
            {"id": f.id, "export_type": f.export_type, "status": f.status, "traceback": f.traceback or None}
            for f in view.formats
        ],
        "task_filter_options": snapshot.task_filter_options,
        "annotation_filter_options": snapshot.annotation_filter_options,
        "serialization_options": snapshot.serialization_options,
    }


@router.get("/api/projects/{project_id}/exports")
async def list_exports(
    session: Session, actor: CurrentActor, project_id: Id, ordering: str | None = None
) -> Response:
    views = await export_snapshots.list_snapshots(session, actor, project_id, ordering=ordering)
    return json_response([_shape(v) for v in views])


@router.post("/api/projects/{project_id}/exports")
async def create_export(
    request: Request, session: Session, actor: CurrentActor, project_id: Id, body: JsonObject
) -> Response:
    """Answer at once with the snapshot `in_progress`; a job builds its file."""
    view = await export_snapshots.create_snapshot(
        session,
        actor,
        project_id,
        title=body.get("title"),
        task_filter_options=body.get("task_filter_options"),
        annotation_filter_options=body.get("annotation_filter_options"),
        serialization_options=body.get("serialization_options"),
        exports_dir=settings_of(request).data_dir / "exports",
    )
    return json_response(_shape(view), status_code=201)


@router.get("/api/projects/{project_id}/exports/{export_id}")
async def get_export(session: Session, actor: CurrentActor, project_id: Id, export_id: Id) -> Response:
    return json_response(_shape(await export_snapshots.get_snapshot(session, actor, project_id, export_id)))


@router.delete("/api/projects/{project_id}/exports/{export_id}")
async def delete_export(session: Session, actor: CurrentActor, project_id: Id, export_id: Id) -> Response:
    await export_snapshots.delete_snapshot(session, actor, project_id, export_id)
    return no_content()


@router.post("/api/projects/{project_id}/exports/{export_id}/convert")
async def convert_export(
    session: Session, actor: CurrentActor, project_id: Id, export_id: Id, body: JsonObject
) -> Response:
    converted = await export_snapshots.convert_snapshot(
        session, actor, project_id, export_id, export_type=body.get("export_type")
    )
    return json_response({"export_type": converted.export_type, "converted_format": converted.id})


@router.get("/api/projects/{project_id}/exports/{export_id}/download")
async def download_export(
    session: Session,
    actor: CurrentActor,
    project_id: Id,
    export_id: Id,
    exportType: str | None = None,
    export_type: str | None = None,
) -> Response:
    download = await export_snapshots.prepare_download(
        session, actor, project_id, export_id, export_type=exportType or export_type
    )
    if download.path is not None:
        return FileResponse(download.path, media_type=download.media_type, filename=download.filename)
    assert download.chunks is not None
    return ClosingStream(
        download.chunks,
        media_type=download.media_type,
        headers={"Content-Disposition": f'attachment; filename="{download.filename}"'},
    )
