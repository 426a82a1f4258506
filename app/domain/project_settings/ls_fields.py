"""Label Studio's flat project fields, mapped both ways onto `ProjectSettings`."""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.domain.errors import Invalid
from app.domain.project_settings.models import ProjectSettings, as_number, decimal_text
from app.domain.task_state import SkipQueue


def _identity(value: Any) -> Any:
    return value


def _table(pairs: dict[str, str]) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """Converters for an enumeration spelled differently by Label Studio (keys) and us (values)."""
    back = {v: k for k, v in pairs.items()}

    def to_ours(value: Any) -> Any:
        if not isinstance(value, str) or value not in pairs:
            raise Invalid(f"must be one of {', '.join(map(repr, pairs))}")
        return pairs[value]

    return to_ours, lambda value: back[str(value)]


@dataclass(frozen=True)
class Field:
    """One Label Studio field: where it lives in our model and how values convert."""

    path: tuple[str, ...]
    to_ours: Callable[[Any], Any] = _identity
    to_ls: Callable[[Any], Any] = _identity


SAMPLING = _table(
    {"Sequential sampling": "id", "Uniform sampling": "random", "Uncertainty sampling": "uncertainty"}
)
SKIP_QUEUE = _table(
    {
        "REQUEUE_FOR_ME": SkipQueue.REQUEUE_TO_ME.value,
        "REQUEUE_FOR_OTHERS": SkipQueue.REQUEUE_TO_OTHERS.value,
        "IGNORE_SKIPPED": SkipQueue.IGNORE.value,
    }
)
REVIEW_CRITERIA = _table({"one": "one_accepted", "all": "all_reviewed"})
REVIEW_SAMPLING = _table({"task_id": "id", "random": "random"})
REJECT_MODE = _table({"requeue": "requeue", "remove": "remove", "flexible": "choose"})
DISTRIBUTION = _table({"auto_distribution": "auto", "assigned_only": "manual"})


def _seconds_to_minutes(value: Any) -> Any:
    """Label Studio's lock TTL is seconds; our reservation is whole minutes (rounded up)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid("must be a number of seconds")
    if not 60 <= value <= 1440 * 60:
        raise Invalid("must be between 60 and 86400 seconds (1 minute to 1 day)")
    return math.ceil(value / 60)


def _decimal_in(value: Any) -> Any:
    return as_number(value)


def _inverse(value: Any) -> Any:
    return not value if isinstance(value, bool) else value


FLAT: dict[str, Field] = {
    "title": Field(("general", "title")),
    "description": Field(("general", "description")),
    "color": Field(("general", "color")),
    "task_data_login": Field(("general", "task_data_login")),
    "task_data_password": Field(("general", "task_data_password")),
    "is_published": Field(("general", "is_published")),
    "is_draft": Field(("general", "is_draft")),
    "expert_instruction": Field(("annotation", "instructions")),
    "show_instruction": Field(("annotation", "show_instructions")),
    "sampling": Field(("annotation", "ordering"), *SAMPLING),
    "custom_task_lock_ttl": Field(
        ("annotation", "reservation_minutes"), _seconds_to_minutes, lambda m: m * 60
    ),
    "enable_empty_annotation": Field(("annotation", "allow_empty_annotations")),
    "show_data_manager_to_annotators": Field(("annotation", "show_data_manager_to_annotators")),
    "show_unused_data_columns_to_annotators": Field(
        ("annotation", "show_only_used_columns_to_annotators"), _inverse, _inverse
    ),
    "show_skip_button": Field(("annotation", "allow_skip")),
    "require_comment_on_skip": Field(("annotation", "require_comment_to_skip")),
    "skip_queue": Field(("annotation", "skip_queue"), *SKIP_QUEUE),
    "show_collab_predictions": Field(("annotation", "use_predictions")),
    "model_version": Field(("annotation", "predictions_source")),
    "reveal_preannotations_interactively": Field(("annotation", "reveal_preannotations_interactively")),
    "evaluate_predictions_automatically": Field(("annotation", "live_predictions")),
    "show_annotation_history": Field(("annotation", "show_annotation_history")),
    "maximum_annotations": Field(("quality", "annotations_per_task")),
    "overlap_cohort_percentage": Field(("quality", "coverage_percent"), _decimal_in),
    "show_overlap_first": Field(("quality", "show_overlap_first")),
    "show_ground_truth_first": Field(("quality", "show_ground_truth_first")),
    "annotation_limit_count": Field(("quality", "annotation_limit_count")),
    "annotation_limit_percent": Field(("quality", "annotation_limit_percent"), _decimal_in, decimal_text),
    "annotator_evaluation_enabled": Field(("quality", "evaluation", "enabled")),
    "annotator_evaluation_onboarding_tasks": Field(("quality", "evaluation", "onboarding_tasks")),
    "annotator_evaluation_continuous_tasks": Field(("quality", "evaluation", "continuous_tasks")),
    "annotator_evaluation_metric": Field(("quality", "evaluation", "metric")),
    "annotator_evaluation_minimum_score": Field(
        ("quality", "evaluation", "minimum_score"), _decimal_in, decimal_text
    ),
    "annotator_evaluation_minimum_tasks": Field(("quality", "evaluation", "minimum_tasks")),
    "pause_on_failed_annotator_evaluation": Field(("quality", "evaluation", "pause_on_fail")),
    "agreement_metric": Field(("quality", "agreement", "metric")),
    "agreement_methodology": Field(("quality", "agreement", "methodology")),
    "agreement_threshold": Field(("quality", "agreement", "threshold"), _decimal_in, decimal_text),
    "assign_additional_annotator_on_low_agreement": Field(
        ("quality", "agreement", "assign_additional_on_low_agreement")
    ),
    "max_additional_annotators_assignable": Field(("quality", "agreement", "max_additional_annotators")),
    "control_weights": Field(("quality", "control_weights")),
    "start_training_on_annotation_update": Field(("model", "train_on_submission")),
    "min_annotations_to_start_training": Field(("model", "min_annotations_to_start_training")),
}

REVIEW: dict[str, Field] = {
    "instruction": Field(("review", "instructions")),
    "show_instruction": Field(("review", "show_instructions")),
    "review_criteria": Field(("review", "reviewed_when"), *REVIEW_CRITERIA),
    "review_only_manual_assignments": Field(("review", "review_only_assigned")),
    "only_finished_tasks": Field(("review", "only_finished_tasks")),
    "sampling": Field(("review", "ordering"), *REVIEW_SAMPLING),
    "review_task_limit_percent": Field(("review", "task_limit_percent"), _decimal_in, decimal_text),
    "requeue_rejected_tasks_mode": Field(("review", "reject_action"), *REJECT_MODE),
    "require_comment_on_reject": Field(("review", "require_comment_on_reject")),
    "show_data_manager_to_reviewers": Field(("review", "show_data_manager_to_reviewers")),
    "show_unused_data_columns_to_reviewers": Field(("review", "show_unused_columns_to_reviewers")),
    "show_agreement_to_reviewers": Field(("review", "show_agreement_to_reviewers")),
    "anonymize_annotations": Field(("review", "anonymize_annotations")),
}

ASSIGNMENT: dict[str, Field] = {
    "label_stream_task_distribution": Field(("annotation", "assignment"), *DISTRIBUTION),
}

NESTED = {"review_settings": REVIEW, "assignment_settings": ASSIGNMENT}
LS_FIELDS = frozenset(FLAT) | frozenset(NESTED)


def _get(tree: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def _set(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        tree = tree[key]
    tree[path[-1]] = value


def to_ls_fields(settings: ProjectSettings) -> dict[str, Any]:
    """The settings as Label Studio's flat project fields (nested review and assignment objects)."""
    tree = settings.model_dump(mode="json")
    out = {name: field.to_ls(_get(tree, field.path)) for name, field in FLAT.items()}
    for name, fields in NESTED.items():
        out[name] = {key: field.to_ls(_get(tree, field.path)) for key, field in fields.items()}
    out["requeue_rejected_tasks_to_annotator"] = settings.review.reject_action == "requeue"
    out["review_settings"]["requeue_rejected_tasks_to_annotator"] = out["requeue_rejected_tasks_to_annotator"]
    return out


def _convert(field: Field, value: Any, where: str) -> Any:
    try:
        return field.to_ours(value)
    except Invalid as exc:
        raise Invalid(f"{where}: {exc.message}", field=where) from None


def _apply(
    tree: dict[str, Any], fields: Mapping[str, Field], payload: Mapping[str, Any], prefix: str
) -> set[str]:
    touched = set()
    for name, value in payload.items():
        field = fields.get(name)
        if field is not None:
            where = f"{prefix}{name}"
            _set(tree, field.path, _convert(field, value, where))
            touched.add(".".join(field.path))
    return touched


def apply_ls_fields(settings: ProjectSettings, payload: Mapping[str, Any]) -> ProjectSettings:
    """A partial update from Label Studio's field names; unknown keys are left to the caller."""
    tree = settings.model_dump(mode="json")
    touched = _apply(tree, FLAT, payload, "")
    for name, fields in NESTED.items():
        nested = payload.get(name)
        if nested is None:
            continue
        if not isinstance(nested, Mapping):
            raise Invalid(f"{name} must be an object", field=name)
        touched |= _apply(tree, fields, nested, f"{name}.")
    if "requeue_rejected_tasks_to_annotator" in payload and "review.reject_action" not in touched:
        tree["review"]["reject_action"] = (
            "requeue" if payload["requeue_rejected_tasks_to_annotator"] else "remove"
        )
    if tree["annotation"]["assignment"] == "manual" and "quality.evaluation.enabled" not in touched:
        tree["quality"]["evaluation"]["enabled"] = False  # the spec: switching to manual disables evaluation
    return validate_settings(tree)


def validate_settings(tree: Mapping[str, Any]) -> ProjectSettings:
    """Build settings, turning Pydantic's errors into one message that names the field."""
    try:
        return ProjectSettings.model_validate(tree)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        field = ls_name(path) or path
        if ":" in message and not path:
            path, _, message = message.partition(": ")
            field = ls_name(path) or path
        raise Invalid(
            f"{field} ({path}): {message}" if field != path else f"{path}: {message}", field=field
        ) from None


def ls_name(path: str) -> str | None:
    """Label Studio's name of one of our settings: quality.coverage_percent -> overlap_cohort_percentage."""
    target = tuple(path.split("."))
    for name, field in FLAT.items():
        if field.path == target:
            return name
    for outer, fields in NESTED.items():
        for name, field in fields.items():
            if field.path == target:
                return f"{outer}.{name}"
    return None
