"""Task and prediction import, answering in Label Studio Community's shape."""

from fastapi import APIRouter, Request, Response
from starlette.datastructures import UploadFile

from app.api.deps import CurrentActor, JsonBody, Session, flag, json_body
from app.api.rest.common import json_response
from app.domain.errors import Invalid
from app.domain.task_import import TaskItem, items_from_json, parse_upload
from app.services import imports, predictions
from app.services.projects import config_of, get_project

router = APIRouter(tags=["import"])


async def _items(request: Request, session: Session, actor: CurrentActor, project_id: int) -> list[TaskItem]:
    """Tasks from a JSON body, or from uploaded files (multipart field `file`)."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        files = [f for f in form.getlist("file") if isinstance(f, UploadFile)]
        files += [f for key, f in form.multi_items() if key != "file" and isinstance(f, UploadFile)]
        if not files:
            raise Invalid("no file uploaded: send the tasks in the multipart field 'file'", field="file")
        keys = sorted(config_of(await get_project(session, actor, project_id)).data_keys)
        text_key = keys[0] if len(keys) == 1 else "text"
        items = []
        for upload in files:
            items += parse_upload(upload.filename or "upload.json", await upload.read(), text_key)
        return items
    return items_from_json(await json_body(request))


@router.post("/api/projects/{project_id}/import")
async def import_tasks(request: Request, session: Session, actor: CurrentActor, project_id: int) -> Response:
    items = await _items(request, session, actor, project_id)
    result = await imports.import_tasks(session, actor, project_id, items)
    body = {
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
        body["task_ids"] = result.task_ids
    return json_response(body, status_code=201)


@router.post("/api/projects/{project_id}/import/predictions")
async def import_predictions(
    session: Session, actor: CurrentActor, project_id: int, body: JsonBody
) -> Response:
    created = await predictions.import_predictions(session, actor, project_id, body)
    return json_response({"created": created}, status_code=201)
