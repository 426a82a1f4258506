"""JSON (every task as stored) and JSON_MIN (one flat item per annotation), streamed as arrays."""

from collections.abc import Iterator
from typing import Any

import orjson

from app.domain.exports.context import ExportContext
from app.domain.exports.writer import ExportWriter

SCALAR_TYPES = {"rating": "rating", "number": "number", "datetime": "datetime"}
IMAGE_KEYS = ("original_width", "original_height")


class JsonArray(ExportWriter):
    """A JSON array written one element at a time."""

    media_type = "application/json"
    extension = "json"

    def __init__(self) -> None:
        self.first = True

    def start(self) -> bytes:
        return b"["

    def element(self, value: Any) -> bytes:
        prefix = b"" if self.first else b","
        self.first = False
        return prefix + orjson.dumps(value)

    def finish(self) -> bytes:
        return b"]"


class JsonWriter(JsonArray):
    def write(self, task: dict[str, Any]) -> bytes:
        return self.element(task)

    def write_encoded(self, tasks: bytes) -> bytes:
        """Tasks the database already encoded as JSON, a line each (the JSON export's fast path)."""
        prefix = b"" if self.first else b","
        self.first = False
        return prefix + tasks.replace(b"\n", b",")


class JsonMinWriter(JsonArray):
    def __init__(self, context: ExportContext) -> None:
        super().__init__()
        self.context = context

    def write(self, task: dict[str, Any]) -> bytes:
        return b"".join(self.element(row) for row in min_rows(task))


def completed(task: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The annotations formats built on results use: submitted ones, never skips."""
    return (a for a in task.get("annotations", []) if not a.get("was_cancelled"))


def min_rows(task: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Label Studio's JSON_MIN: task data at the top level, one key per control, annotation facts."""
    data = task.get("data", {})
    task_id = task["id"]
    for annotation in completed(task):
        completed_by = annotation.get("completed_by")
        yield {
            **data,
            "id": task_id,
            **min_values(annotation.get("result", [])),
            "annotator": (
                completed_by.get("email", completed_by.get("id"))
                if isinstance(completed_by, dict)
                else completed_by
            ),
            "annotation_id": annotation.get("id"),
            "created_at": annotation.get("created_at"),
            "updated_at": annotation.get("updated_at"),
            "lead_time": annotation.get("lead_time"),
        }


def min_values(result: list[dict[str, Any]]) -> dict[str, Any]:
    """Per control: a bare value for a single choice / text / number, a list of region values otherwise."""
    if len(result) == 1:  # the most common result, one region or choice: no grouping to do
        return {result[0]["from_name"]: _min_value(result)} if _is_region(result[0]) else {}
    by_control: dict[str, list[dict[str, Any]]] = {}
    for item in result:
        if _is_region(item):
            by_control.setdefault(item["from_name"], []).append(item)
    return {name: _min_value(items) for name, items in by_control.items()}


def _is_region(item: dict[str, Any]) -> bool:
    """A result item that labels something: it names its control and holds a value (a relation
    between regions does neither)."""
    return "from_name" in item and isinstance(item.get("value"), dict)


def _min_value(items: list[dict[str, Any]]) -> Any:
    kind = items[0].get("type", "")
    value = items[0]["value"]
    if len(items) == 1 and kind == "choices":
        choices = value.get("choices", [])
        return choices[0] if len(choices) == 1 else {"choices": choices}
    if len(items) == 1 and kind == "textarea":
        texts = value.get("text", [])
        return texts[0] if isinstance(texts, list) and len(texts) == 1 else texts
    if len(items) == 1 and kind in SCALAR_TYPES:
        return value.get(SCALAR_TYPES[kind])
    regions = []
    for item in items:
        region = dict(item["value"])
        region.update({k: item[k] for k in IMAGE_KEYS if k in item})
        regions.append(region)
    return regions
