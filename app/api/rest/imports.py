"""Task and prediction import: small ones answered at once in Label Studio Community's shape,
large ones as a job answered `{"import": id}` and polled at `/imports/{id}`. A URL import is
downloaded through the outbound guard and then treated like an upload of that file."""

import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData, UploadFile

from app.api.deps import CurrentActor, Id, JsonBody, Session, flag, json_body, settings_of
from app.api.rest.common import json_response
from app.db.models import ProjectImport
from app.domain.errors import Invalid
from app.domain.task_import import TaskItem, items_from_json, iter_items
from app.services import imports, outbound, predictions
from app.services.projects import config_of, get_managed_project, get_project
from app.services.shapes import iso

router = APIRouter(tags=["import"])


def _store(request: Request, suffix: str) -> Path:
    folder = settings_of(request).data_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{uuid.uuid4().hex}{suffix}"


def _uploads(form: FormData) -> list[UploadFile]:
    files = [f for _, f in form.multi_items() if isinstance(f, UploadFile)]
    if not files:
        raise Invalid("no file uploaded: send the tasks in the multipart field 'file'", field="file")
    return files


def _file_size(upload: UploadFile) -> int:
    upload.file.seek(0, 2)
    size = upload.file.tell()
    upload.file.seek(0)
    return size


async def _as_job(
    request: Request, session: Session, actor: CurrentActor, project_id: Id, path: Path, name: str
) -> Response:
    job = await imports.create_import(
        session,
        actor,
        project_id,
        path,
        name,
        return_task_ids=flag(request.query_params.get("return_task_ids")),
    )
    return json_response({"import": job.id}, status_code=201)


FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


@router.post("/api/projects/{project_id}/import")
async def import_tasks(request: Request, session: Session, actor: CurrentActor, project_id: Id) -> Response:
    """Tasks from a JSON body, uploaded files, or a URL (form field or query parameter `url`)."""
    url = request.query_params.get("url")
    if request.headers.get("content-type", "").startswith(FORMS):
        form = await request.form(max_files=100)
        field = form.get("url")
        url = url or (field if isinstance(field, str) else None)
        if not url:
            return await _import_files(request, session, actor, project_id, _uploads(form))
    if url:
        return await _import_url(request, session, actor, project_id, url)
    body = await request.body()
    if len(body) > settings_of(request).import_sync_bytes:
        path = _store(request, ".json")
        path.write_bytes(body)
        return await _as_job(request, session, actor, project_id, path, "body.json")
    return await _import_now(request, session, actor, project_id, items_from_json(await json_body(request)))


async def _import_files(
    request: Request, session: Session, actor: CurrentActor, project_id: Id, files: list[UploadFile]
) -> Response:
    limit = settings_of(request).import_sync_bytes
    if sum(_file_size(f) for f in files) > limit:
        if len(files) > 1:
            raise Invalid(
                f"upload files over {limit} bytes one at a time; each becomes an import job", field="file"
            )
        name = files[0].filename or "upload.json"
        path = _store(request, Path(name).suffix)
        with path.open("wb") as target:
            shutil.copyfileobj(files[0].file, target)
        return await _as_job(request, session, actor, project_id, path, name)
    key = imports.upload_text_key(config_of(await get_project(session, actor, project_id)))
    items: list[TaskItem] = []
    sources: list[tuple[str, int]] = []
    for upload in files:
        name = upload.filename or "upload.json"
        before = len(items)
        try:
            items += iter_items(upload.file, name, key)
        except Invalid as exc:  # name the file the line is in
            raise Invalid(f"{name}: {exc.message}", field=exc.field) if len(files) > 1 else exc from None
        sources.append((name, len(items) - before))
    return await _import_now(request, session, actor, project_id, items, sources if len(files) > 1 else ())


async def _import_url(
    request: Request, session: Session, actor: CurrentActor, project_id: Id, url: str
) -> Response:
    """Download, then import like an upload of that file: at once, or as a job when large.

    Only those who may import make the server send a request. Nothing is written before the
    download, so that transaction ends first: a slow server then holds no database connection (nor,
    on SQLite, the write lock) for the minutes a download may take.
    """
    settings = settings_of(request)
    await get_managed_project(session, actor, project_id)
    await session.commit()
    limits = outbound.limits_from(settings)
    path, name = await imports.download_import(url, limits, settings.data_dir / "imports")
    if path.stat().st_size > settings.import_sync_bytes:
        return await _as_job(request, session, actor, project_id, path, name)
    try:
        key = imports.upload_text_key(config_of(await get_project(session, actor, project_id)))
        with path.open("rb") as stream:
            items = list(iter_items(stream, name, key))
    finally:
        path.unlink()
    return await _import_now(request, session, actor, project_id, items)


async def _import_now(
    request: Request,
    session: Session,
    actor: CurrentActor,
    project_id: Id,
    items: list[TaskItem],
    files: Sequence[tuple[str, int]] = (),
) -> Response:
    result = await imports.import_tasks(session, actor, project_id, items, files)
    shape = {
        "task_count": len(result.task_ids),
        "annotation_count": result.annotation_count,
        "prediction_count": result.prediction_count,
        "predictions_count": result.prediction_count,
        "duration": result.duration,
        "file_upload_ids": [],
        "could_be_tasks_list": False,
        "found_formats": [],
        "data_columns": result.data_columns,
    }
    if flag(request.query_params.get("return_task_ids")):
        shape["task_ids"] = result.task_ids
    return json_response(shape, status_code=201)


@router.get("/api/projects/{project_id}/imports/{import_id}")
async def get_import(session: Session, actor: CurrentActor, project_id: Id, import_id: Id) -> Response:
    """The job as the SDKs poll it: status created, in_progress, completed or failed."""
    job = await imports.get_import(session, actor, project_id, import_id)
    return json_response(await _import_shape(session, job))


async def _import_shape(session: Session, job: ProjectImport) -> dict[str, object]:
    shape: dict[str, object] = {
        "id": job.id,
        "project": job.project_id,
        "status": job.status,
        "error": job.error or None,
        "task_count": job.rows_done,
        "annotation_count": job.annotation_count,
        "prediction_count": job.prediction_count,
        "predictions_count": job.prediction_count,
        "duration": job.duration,
        "file_upload_ids": [],
        "found_formats": [job.file_name],
        "data_columns": job.data_columns,
        "return_task_ids": job.return_task_ids,
        "commit_to_project": True,
        "could_be_tasks_list": False,
        "progress": {"rows_done": job.rows_done, "rows_total": job.rows_total},
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "finished_at": iso(job.finished_at),
    }
    if job.return_task_ids and job.status == "completed":
        shape["task_ids"] = await imports.import_task_ids(session, job)
    return shape


@router.post("/api/projects/{project_id}/import/predictions")
async def import_predictions(
    session: Session, actor: CurrentActor, project_id: Id, body: JsonBody
) -> Response:
    created = await predictions.import_predictions(session, actor, project_id, body)
    return json_response({"created": created}, status_code=201)
