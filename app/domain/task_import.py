"""Turning what users upload (JSON, JSON lines, CSV, TSV, text) into task items, row by row."""

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import orjson

from app.domain.errors import Invalid

TASK_KEYS = frozenset({"data", "meta", "annotations", "predictions", "allow_skip", "id", "inner_id"})


@dataclass
class TaskItem:
    """One task to create, with what came inline."""

    data: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    allow_skip: bool = True


def task_item(raw: Any, row: int) -> TaskItem:
    """A flat object becomes the task's data; `{"data": ...}` is the full form."""
    where = f"task {row}"
    if not isinstance(raw, dict):
        raise Invalid(f"{where}: each task must be a JSON object", field="tasks")
    if not isinstance(raw.get("data"), dict):
        return TaskItem(data=raw)
    meta = raw.get("meta") or {}
    annotations = raw.get("annotations") or []
    predictions = raw.get("predictions") or []
    if not isinstance(meta, dict):
        raise Invalid(f"{where}: meta must be an object", field="meta")
    for name, value in (("annotations", annotations), ("predictions", predictions)):
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise Invalid(f"{where}: {name} must be a list of objects", field=name)
    allow_skip = raw.get("allow_skip", True)
    if not isinstance(allow_skip, bool):
        raise Invalid(f"{where}: allow_skip must be true or false", field="allow_skip")
    return TaskItem(raw["data"], meta, annotations, predictions, allow_skip)


def items_from_json(value: Any) -> list[TaskItem]:
    """A list of tasks, or a single task object."""
    rows = value if isinstance(value, list) else [value]
    return [task_item(raw, i + 1) for i, raw in enumerate(rows)]


def parse_json_file(content: bytes) -> list[TaskItem]:
    try:
        return items_from_json(orjson.loads(content))
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"the file is not valid JSON: {exc}", field="file") from None


def parse_json_lines(content: bytes) -> list[TaskItem]:
    items = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(task_item(orjson.loads(line), number))
        except orjson.JSONDecodeError as exc:
            raise Invalid(f"line {number} is not valid JSON: {exc}", field="file") from None
    return items


def parse_delimited(content: bytes, delimiter: str) -> list[TaskItem]:
    """CSV/TSV: the header row names the data keys; a ragged row is an error naming its line."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the file is not UTF-8 text", field="file") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header or any(not h.strip() for h in header):
        raise Invalid("line 1: the header row must name every column", field="file")
    if len(set(header)) != len(header):
        raise Invalid("line 1: the header row repeats a column name", field="file")
    items = []
    for row in reader:
        if not row:
            continue
        if len(row) != len(header):
            raise Invalid(
                f"line {reader.line_num}: {len(row)} fields where the header has {len(header)}", field="file"
            )
        items.append(TaskItem(data=dict(zip(header, row, strict=True))))
    return items


def parse_text_lines(content: bytes, key: str) -> list[TaskItem]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the file is not UTF-8 text", field="file") from None
    return [TaskItem(data={key: line}) for line in text.splitlines() if line.strip()]


def parse_upload(filename: str, content: bytes, text_key: str) -> list[TaskItem]:
    """Pick the parser by file extension."""
    name = filename.lower()
    if name.endswith((".jsonl", ".ndjson")):
        return parse_json_lines(content)
    if name.endswith(".json"):
        return parse_json_file(content)
    if name.endswith(".csv"):
        return parse_delimited(content, ",")
    if name.endswith(".tsv"):
        return parse_delimited(content, "\t")
    if name.endswith(".txt"):
        return parse_text_lines(content, text_key)
    raise Invalid(f"'{filename}': unsupported file type; use .json, .jsonl, .csv, .tsv or .txt", field="file")
