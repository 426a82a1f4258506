"""Predictions: one at a time; bulk import lives with the project's import."""

from fastapi import APIRouter, Response

from app.api.deps import CurrentActor, Id, JsonObject, Session
from app.api.rest.common import json_response, no_content
from app.services import predictions
from app.services.shapes import prediction_shape

router = APIRouter(tags=["predictions"])


@router.get("/api/predictions")
async def list_predictions(
    session: Session, actor: CurrentActor, task: int | None = None, project: int | None = None
) -> Response:
    rows = await predictions.list_predictions(session, actor, task_id=task, project_id=project)
    return json_response([prediction_shape(p) for p in rows])


@router.post("/api/predictions")
async def create_prediction(session: Session, actor: CurrentActor, body: JsonObject) -> Response:
    return json_response(prediction_shape(await predictions.create_prediction(session, actor, body)), 201)


@router.get("/api/predictions/{prediction_id}")
async def get_prediction(session: Session, actor: CurrentActor, prediction_id: Id) -> Response:
    return json_response(prediction_shape(await predictions.get_prediction(session, actor, prediction_id)))


@router.patch("/api/predictions/{prediction_id}")
@router.put("/api/predictions/{prediction_id}")
async def update_prediction(
    session: Session, actor: CurrentActor, prediction_id: Id, body: JsonObject
) -> Response:
    return json_response(
        prediction_shape(await predictions.update_prediction(session, actor, prediction_id, body))
    )


@router.delete("/api/predictions/{prediction_id}")
async def delete_prediction(session: Session, actor: CurrentActor, prediction_id: Id) -> Response:
    await predictions.delete_prediction(session, actor, prediction_id)
    return no_content()
