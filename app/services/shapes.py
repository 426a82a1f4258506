"""Label Studio's JSON shapes of our rows, shared by the REST API and exports."""

from datetime import datetime
from typing import Any

from app.db.models import Annotation, Draft, Prediction, Project, Task, User
from app.domain.label_config import parsed_label_config
from app.domain.project_settings import to_ls_fields
from app.domain.roles import LS_CODES, Role
from app.services.projects import config_of, settings_of


def iso(value: datetime | None) -> str | None:
    """UTC timestamps as Label Studio writes them: ISO 8601 with a Z."""
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def user_shape(user: User, role: str | None = None) -> dict[str, Any]:
    """Every string field a string, never null: the legacy client validates them."""
    initials = ((user.first_name[:1] + user.last_name[:1]) or user.email[:2]).upper()
    shape: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "initials": initials,
        "phone": user.phone,
        "avatar": None,
        "active_organization": user.active_organization_id,
        "date_joined": iso(user.date_joined),
        "last_activity": iso(user.last_activity or user.date_joined),
        "allow_newsletters": False,
    }
    if role is not None:
        shape["org_membership"] = [
            {"role": LS_CODES[Role(role)], "active": True, "organization_id": user.active_organization_id}
        ]
    return shape


def project_shape(project: Project, counters: dict[str, int] | None = None) -> dict[str, Any]:
    config = config_of(project)
    shape = to_ls_fields(settings_of(project))
    shape.update(
        {
            "id": project.id,
            "title": project.title,
            "description": project.description,
            "color": project.color,
            "label_config": project.label_config,
            "parsed_label_config": parsed_label_config(config),
            "organization": project.organization_id,
            "workspace": project.workspace_id,
            "created_by": {"id": project.created_by_id},
            "created_at": iso(project.created_at),
            "updated_at": iso(project.updated_at),
            "pinned_at": iso(project.pinned_at),
            "data_types": {o.data_key: o.tag for o in config.objects.values() if o.data_key},
            "config_has_control_tags": bool(config.controls),
        }
    )
    shape.update(counters or {})
    return shape


def task_shape(
    task: Task,
    *,
    annotations: list[Annotation] | None = None,
    predictions: list[Prediction] | None = None,
    drafts: list[Draft] | None = None,
) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "id": task.id,
        "data": task.data,
        "meta": task.meta,
        "project": task.project_id,
        "inner_id": task.inner_id,
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
        "updated_by": task.updated_by_id,
        "is_labeled": task.is_labeled,
        "overlap": task.overlap,
        "allow_skip": task.allow_skip,
        "total_annotations": task.total_annotations,
        "cancelled_annotations": task.cancelled_annotations,
        "total_predictions": task.total_predictions,
        "completed_at": iso(task.completed_at),
        "comment_count": 0,
        "unresolved_comment_count": 0,
        "last_comment_updated_at": None,
        "comment_authors": [],
        "file_upload": None,
    }
    if annotations is not None:
        shape["annotations"] = [annotation_shape(a) for a in annotations]
    if predictions is not None:
        shape["predictions"] = [prediction_shape(p) for p in predictions]
    if drafts is not None:
        shape["drafts"] = [draft_shape(d) for d in drafts]
    return shape


def annotation_shape(annotation: Annotation) -> dict[str, Any]:
    return {
        "id": annotation.id,
        "task": annotation.task_id,
        "project": annotation.project_id,
        "result": annotation.result,
        "completed_by": annotation.completed_by_id,
        "updated_by": annotation.updated_by_id,
        "was_cancelled": annotation.was_cancelled,
        "ground_truth": annotation.ground_truth,
        "lead_time": annotation.lead_time,
        "prediction": annotation.prediction,
        "result_count": len(annotation.result),
        "parent_prediction": annotation.parent_prediction_id,
        "parent_annotation": annotation.parent_annotation_id,
        "last_action": annotation.last_action,
        "unique_id": annotation.unique_id,
        "import_id": annotation.import_id,
        "bulk_created": annotation.bulk_created,
        "draft_created_at": iso(annotation.draft_created_at),
        "created_at": iso(annotation.created_at),
        "updated_at": iso(annotation.updated_at),
    }


def prediction_shape(prediction: Prediction) -> dict[str, Any]:
    return {
        "id": prediction.id,
        "task": prediction.task_id,
        "project": prediction.project_id,
        "result": prediction.result,
        "score": prediction.score,
        "model_version": prediction.model_version,
        "cluster": prediction.cluster,
        "neighbors": prediction.neighbors,
        "mislabeling": prediction.mislabeling,
        "created_at": iso(prediction.created_at),
        "updated_at": iso(prediction.updated_at),
    }


def draft_shape(draft: Draft) -> dict[str, Any]:
    return {
        "id": draft.id,
        "task": draft.task_id,
        "user": draft.user_id,
        "annotation": draft.annotation_id,
        "result": draft.result,
        "lead_time": draft.lead_time,
        "was_postponed": draft.was_postponed,
        "created_at": iso(draft.created_at),
        "updated_at": iso(draft.updated_at),
    }
