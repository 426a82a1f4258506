"""Tasks: the paged list ML backends and SDKs read, single task CRUD, Data Manager actions."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from app.api.deps import BigId, CurrentActor, Id, JsonObject, Session, flag
from app.api.rest.common import json_response, no_content
from app.domain.errors import Invalid
from app.domain.pagination import page_of
from app.domain.task_import import task_item
from app.domain.task_query import TaskQuery, parse_task_query
from app.services import annotations, assignments, imports, predictions, tasks
from app.services.shapes import task_shape

router = APIRouter(tags=["tasks"])


@router.get("/api/tasks")
async def list_tasks(
    session: Session,
    actor: CurrentActor,
    project: int | None = None,
    page: int | None = None,
    page_size: int | None = None,
    query: str | None = None,
    fields: str | None = None,
    include: str | None = None,
    only_annotated: str | None = None,
) -> Response:
    """`{tasks, total, total_annotations, total_predictions}`; past the last page, 404."""
    if project is None:
        raise Invalid("the project parameter is required", field="project")
    current = page_of(page, page_size, default_size=100, max_size=1000)
    rows, total, total_annotations, total_predictions = await tasks.list_tasks(
        session, actor, project, parse_task_query(query), current, only_annotated=flag(only_annotated)
    )
    if include == "id":
        shaped = [{"id": t.id} for t in rows]
    elif fields == "all":
        ids = [t.id for t in rows]
        by_task = await annotations.annotations_of(session, ids)
        preds = await predictions.predictions_of(session, ids)
        shaped = [task_shape(t, annotations=by_task[t.id], predictions=preds[t.id]) for t in rows]
    else:
        shaped = [task_shape(t) for t in rows]
    return json_response(
        {
            "tasks": shaped,
            "total": total,
            "total_annotations": total_annotations,
            "total_predictions": total_predictions,
        }
    )


@router.post("/api/tasks")
async def create_task(session: Session, actor: CurrentActor, body: JsonObject) -> Response:
    project_id = body.get("project")
    if not isinstance(project_id, int):
        raise Invalid("project must be a project id", field="project")
    item = task_item({k: v for k, v in body.items() if k != "project"}, 1)
    result = await imports.import_tasks(session, actor, project_id, [item])
    task = await tasks.get_task(session, actor, result.task_ids[0])
    return json_response(task_shape(task), status_code=201)


@router.get("/api/tasks/{task_id}")
async def get_task(session: Session, actor: CurrentActor, task_id: BigId) -> Response:
    task = await tasks.get_task(session, actor, task_id)
    by_task = await annotations.annotations_of(session, [task.id])
    preds = await predictions.predictions_of(session, [task.id])
    return json_response(
        task_shape(task, annotations=by_task[task.id], predictions=preds[task.id], drafts=[])
    )


@router.patch("/api/tasks/{task_id}")
@router.put("/api/tasks/{task_id}")
async def update_task(session: Session, actor: CurrentActor, task_id: BigId, body: JsonObject) -> Response:
    return json_response(task_shape(await tasks.update_task(session, actor, task_id, body)))


@router.delete("/api/tasks/{task_id}")
async def delete_task(session: Session, actor: CurrentActor, task_id: BigId) -> Response:
    await tasks.delete_task(session, actor, task_id)
    return no_content()


def selected_items(body: dict[str, Any]) -> TaskQuery:
    """Data Manager `selectedItems`: all but excluded ids, or only included ids."""
    selected = body.get("selectedItems") or {"all": True, "excluded": []}
    if not isinstance(selected, dict):
        raise Invalid("selectedItems must be an object", field="selectedItems")
    every = bool(selected.get("all", True))
    try:
        ids = tuple(int(i) for i in selected.get("excluded" if every else "included") or [])
    except (TypeError, ValueError):
        raise Invalid("selectedItems ids must be task ids", field="selectedItems") from None
    return TaskQuery(selected_all=every, selected_ids=ids)


UNASSIGN = {"delete_annotators": "AN", "delete_reviewers": "RE"}


@router.post("/api/dm/actions")
async def data_manager_action(
    session: Session,
    actor: CurrentActor,
    body: JsonObject,
    id: Annotated[str, Query()],
    project: Annotated[int, Query()],
) -> Response:
    """The Data Manager actions the SDKs call: delete tasks, remove assignees."""
    query = selected_items(body)
    if id == "delete_tasks":
        count = await tasks.delete_tasks(session, actor, project, query)
        return json_response({"processed_items": count, "detail": f"Deleted {count} tasks"})
    if id in UNASSIGN:
        count = await assignments.unassign(session, actor, project, query, UNASSIGN[id])
        return json_response({"processed_items": count})
    raise Invalid(f"unknown action '{id}'", field="id")


@router.post("/api/projects/{project_id}/tasks/assignees")
async def assign_tasks(session: Session, actor: CurrentActor, project_id: Id, body: JsonObject) -> Response:
    """Label Studio's bulk assignment: `{users, selectedItems, type}` -> `{assignments}`."""
    users = body.get("users")
    if not isinstance(users, list) or not all(isinstance(u, int) for u in users):
        raise Invalid("users must be a list of user ids", field="users")
    count = await assignments.assign(
        session, actor, project_id, users, selected_items(body), str(body.get("type", "AN"))
    )
    return json_response({"assignments": count}, status_code=201)
