"""Projects: Label Studio's create, get, list, update, delete, validate and model versions."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.api.deps import CurrentActor, Id, JsonObject, Now, Session, int_list
from app.api.rest.common import json_response, no_content
from app.db.models import Project
from app.domain.errors import Invalid
from app.domain.pagination import page_of
from app.domain.task_query import TaskQuery
from app.services import label_stream, projects, tasks
from app.services.shapes import project_shape

router = APIRouter(tags=["projects"])


async def _shape(session: Session, project_id: int, project: Project) -> dict[str, object]:
    counters = await projects.project_counters(session, [project_id])
    return project_shape(project, counters[project_id])


@router.get("/api/projects")
async def list_projects(
    request: Request,
    session: Session,
    actor: CurrentActor,
    page: int | None = None,
    page_size: int | None = None,
    title: str | None = None,
    ids: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    """`{count, next, previous, results}`; a page past the end is 404 `Invalid page.`."""
    current = page_of(page, page_size, default_size=30, max_size=10_000)
    rows, total = await projects.list_projects(session, actor, current, title=title, ids=int_list(ids))
    counters = await projects.project_counters(session, [p.id for p in rows])
    base = str(request.url.remove_query_params("page"))
    last = (total + current.size - 1) // current.size
    return json_response(
        {
            "count": total,
            "next": f"{_joiner(base)}page={current.number + 1}" if current.number < last else None,
            "previous": f"{_joiner(base)}page={current.number - 1}" if current.number > 1 else None,
            "results": [project_shape(p, counters[p.id]) for p in rows],
        }
    )


def _joiner(url: str) -> str:
    return url + ("&" if "?" in url else "?")


@router.post("/api/projects")
async def create_project(session: Session, actor: CurrentActor, body: JsonObject) -> Response:
    workspace = body.get("workspace")
    if workspace is not None and (not isinstance(workspace, int) or isinstance(workspace, bool)):
        raise Invalid("workspace must be a workspace id", field="workspace")
    project = await projects.create_project(session, actor, body, workspace_id=workspace)
    return json_response(await _shape(session, project.id, project), status_code=201)


@router.get("/api/projects/{project_id}")
async def get_project(session: Session, actor: CurrentActor, now: Now, project_id: Id) -> Response:
    """The project with its counters and the caller's own queue counters."""
    project = await projects.get_project(session, actor, project_id)
    shape = await _shape(session, project_id, project)
    shape.update(await label_stream.queue_counters(session, actor, project, now))
    return json_response(shape)


@router.patch("/api/projects/{project_id}")
@router.put("/api/projects/{project_id}")
async def update_project(session: Session, actor: CurrentActor, project_id: Id, body: JsonObject) -> Response:
    project = await projects.update_project(session, actor, project_id, body)
    return json_response(await _shape(session, project_id, project))


@router.delete("/api/projects/{project_id}")
async def delete_project(session: Session, actor: CurrentActor, project_id: Id) -> Response:
    await projects.delete_project(session, actor, project_id)
    return no_content()


@router.post("/api/projects/{project_id}/validate")
async def validate_config(
    session: Session, actor: CurrentActor, project_id: Id, body: JsonObject
) -> Response:
    changed = await projects.validate_config(session, actor, project_id, body.get("label_config", ""))
    return json_response({"config_essential_data_has_changed": changed})


@router.get("/api/projects/{project_id}/model-versions")
async def model_versions(session: Session, actor: CurrentActor, project_id: Id) -> Response:
    return json_response(await projects.model_versions(session, actor, project_id))


@router.delete("/api/projects/{project_id}/tasks")
async def delete_all_tasks(session: Session, actor: CurrentActor, project_id: Id) -> Response:
    await tasks.delete_tasks(session, actor, project_id, TaskQuery())
    return no_content()
