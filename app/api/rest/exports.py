"""One-shot export, streamed, and the list of formats."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.api.deps import CurrentActor, Id, Session, flag, int_list
from app.api.rest.common import ClosingStream, json_response
from app.services import exports

router = APIRouter(tags=["export"])


@router.get("/api/projects/{project_id}/export")
async def export_tasks(
    request: Request,
    session: Session,
    actor: CurrentActor,
    project_id: Id,
    exportType: str | None = None,
    export_type: str | None = None,
    download_all_tasks: str | None = None,
    only_ground_truth: str | None = None,
    ids: Annotated[list[str], Query()] = [],  # noqa: B006
    ids_brackets: Annotated[list[str], Query(alias="ids[]")] = [],  # noqa: B006
) -> Response:
    """Stream the project's tasks in the asked format; the first bytes leave before the last task is read."""
    export = exports.ExportRequest(
        project_id=project_id,
        export_type=(exportType or export_type or "JSON").upper(),
        all_tasks=flag(download_all_tasks),
        ids=tuple(int_list(ids + ids_brackets)),
        only_ground_truth=flag(only_ground_truth),
    )
    prepared = await exports.prepare_export(session, actor, export)
    return ClosingStream(
        exports.stream_export(request.app.state.sessionmaker, prepared),
        media_type=prepared.writer.media_type,
        headers={"Content-Disposition": f'attachment; filename="{prepared.filename}"'},
    )


@router.get("/api/projects/{project_id}/export/formats")
async def export_formats(session: Session, actor: CurrentActor, project_id: Id) -> Response:
    return json_response(await exports.list_formats(session, actor, project_id))
