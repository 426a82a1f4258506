"""What goes into a snapshot: Label Studio's filter and serialization options, checked and applied."""

from dataclasses import dataclass
from typing import Any

from app.domain.errors import Invalid

MODES = ("only", "exclude")


@dataclass(frozen=True)
class SnapshotOptions:
    """What goes into a snapshot, from Label Studio's task, annotation and serialization options."""

    only_with_annotations: bool = False  # tasks with any annotation, skips included
    annotated: str | None = None  # only / exclude tasks with a submitted (not skipped) annotation
    finished: str | None = None  # only / exclude labeled tasks
    skipped: str | None = None  # only / exclude tasks with a skip
    usual: bool = True  # annotations neither skipped nor ground truth
    ground_truth: bool = True
    skipped_annotations: bool = True
    drafts_only_id: bool = False
    predictions_only_id: bool = False
    completed_by_only_id: bool = False

    def keeps_annotation(self, annotation: dict[str, Any]) -> bool:
        """Kinds are or-ed, as in Label Studio; with every kind turned off no annotation is kept."""
        skipped, ground_truth = annotation["was_cancelled"], annotation["ground_truth"]
        return (
            (self.usual and not skipped and not ground_truth)
            or (self.ground_truth and ground_truth)
            or (self.skipped_annotations and skipped)
        )

    def as_ls(self) -> dict[str, dict[str, Any]]:
        """The options in Label Studio's shape: stored on the row and echoed in the API."""
        return {
            "task_filter_options": {
                "only_with_annotations": self.only_with_annotations,
                "annotated": self.annotated,
                "finished": self.finished,
                "skipped": self.skipped,
            },
            "annotation_filter_options": {
                "usual": self.usual,
                "ground_truth": self.ground_truth,
                "skipped": self.skipped_annotations,
            },
            "serialization_options": {
                "drafts": {"only_id": self.drafts_only_id},
                "predictions": {"only_id": self.predictions_only_id},
                "annotations__completed_by": {"only_id": self.completed_by_only_id},
            },
        }


def _object(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(f"{name} must be an object", field=name)
    return value


def _flag(options: dict[str, Any], key: str, default: bool, name: str) -> bool:
    value = options.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise Invalid(f"{name}.{key} must be true or false", field=f"{name}.{key}")
    return value


def _mode(options: dict[str, Any], key: str) -> str | None:
    value = options.get(key)
    if value in (None, "", "None"):
        return None
    if value not in MODES:
        raise Invalid(
            f"task_filter_options.{key} must be 'only' or 'exclude'", field=f"task_filter_options.{key}"
        )
    return str(value)


def _unsupported(options: dict[str, Any], name: str, *keys: str) -> None:
    for key in keys:
        if options.get(key) not in (None, ""):
            raise Invalid(
                f"{name}.{key} is not supported; filter tasks with only_with_annotations, annotated, "
                "finished or skipped",
                field=f"{name}.{key}",
            )


def _only_id(options: dict[str, Any], key: str) -> bool:
    name = f"serialization_options.{key}"
    return _flag(_object(options.get(key), name), "only_id", False, name)


def parse_options(task_filter: Any, annotation_filter: Any, serialization: Any) -> SnapshotOptions:
    """Options as either SDK sends them; an annotation kind left out is kept, `only_id` defaults to false."""
    tasks = _object(task_filter, "task_filter_options")
    annotations = _object(annotation_filter, "annotation_filter_options")
    shapes = _object(serialization, "serialization_options")
    _unsupported(tasks, "task_filter_options", "view", "reviewed")
    _unsupported(annotations, "annotation_filter_options", "reviewed")
    return SnapshotOptions(
        only_with_annotations=_flag(tasks, "only_with_annotations", False, "task_filter_options"),
        annotated=_mode(tasks, "annotated"),
        finished=_mode(tasks, "finished"),
        skipped=_mode(tasks, "skipped"),
        usual=_flag(annotations, "usual", True, "annotation_filter_options"),
        ground_truth=_flag(annotations, "ground_truth", True, "annotation_filter_options"),
        skipped_annotations=_flag(annotations, "skipped", True, "annotation_filter_options"),
        drafts_only_id=_only_id(shapes, "drafts"),
        predictions_only_id=_only_id(shapes, "predictions"),
        completed_by_only_id=_only_id(shapes, "annotations__completed_by"),
    )


@dataclass
class Counters:
    task_number: int = 0
    annotation_number: int = 0
    prediction_number: int = 0


def shape_task(
    task: dict[str, Any], options: SnapshotOptions, users: dict[int, dict[str, Any]], counters: Counters
) -> dict[str, Any]:
    """A task of the JSON export as the options ask, counted (the task filters were applied by the
    database)."""
    annotations = [a for a in task["annotations"] if options.keeps_annotation(a)]
    if not options.completed_by_only_id:
        for a in annotations:
            if a["completed_by"] is not None:
                a["completed_by"] = users.get(a["completed_by"], {"id": a["completed_by"]})
    task["annotations"] = annotations
    if options.predictions_only_id:
        task["predictions"] = [p["id"] for p in task["predictions"]]
    if options.drafts_only_id:
        task["drafts"] = [d["id"] for d in task["drafts"]]
    counters.task_number += 1
    counters.annotation_number += len(annotations)
    counters.prediction_number += len(task["predictions"])
    return task
