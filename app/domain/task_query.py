"""Label Studio's Data Manager `query` (filters, ordering, selected items), parsed and checked."""

import re
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from app.domain.errors import Invalid

COLUMNS = frozenset(
    {
        "id",
        "inner_id",
        "completed_at",
        "created_at",
        "updated_at",
        "total_annotations",
        "cancelled_annotations",
        "total_predictions",
        "is_labeled",
        "overlap",
    }
)
OPERATORS = frozenset(
    {
        "equal",
        "not_equal",
        "less",
        "greater",
        "less_or_equal",
        "greater_or_equal",
        "in",
        "not_in",
        "in_list",
        "not_in_list",
        "empty",
        "contains",
        "not_contains",
        "regex",
    }
)
TEXT_OPERATORS = frozenset({"contains", "not_contains", "regex"})  # every other column is not text


@dataclass(frozen=True)
class Filter:
    column: str  # a task column, or "data.<key>"
    operator: str
    value: Any

    @property
    def data_key(self) -> str | None:
        return self.column[5:] if self.column.startswith("data.") else None


@dataclass(frozen=True)
class TaskQuery:
    conjunction: str = "and"
    filters: tuple[Filter, ...] = ()
    ordering: tuple[tuple[str, bool], ...] = ()  # (column, descending)
    selected_all: bool = True
    selected_ids: tuple[int, ...] = ()  # included when not all, excluded when all


Scope = Literal["all", "labeled", "unlabeled"]


def truthy(value: Any) -> bool:
    """A filter's boolean value as the Data Manager may send it."""
    return value in (True, 1, "true", "True", "1")


def counted_scope(query: TaskQuery, *, only_annotated: bool) -> Scope | None:
    """The set a query lists when counters kept per project describe it: the whole project, or its
    labeled or unlabeled tasks as the SDK's get_labeled_tasks and get_unlabeled_tasks ask for them
    (`completed_at` is set exactly while a task is labeled); None for anything narrower."""
    if only_annotated or not query.selected_all or query.selected_ids:
        return None
    if not query.filters:
        return "all"
    if [(f.column, f.operator) for f in query.filters] == [("completed_at", "empty")]:
        return "unlabeled" if truthy(query.filters[0].value) else "labeled"
    return None


def _column(name: Any, where: str) -> str:
    """`filter:tasks:id` / `tasks:data.text` / `id` -> `id` / `data.text`."""
    if not isinstance(name, str):
        raise Invalid(f"{where} must be a string", field="query")
    short = name.removeprefix("-").removeprefix("filter:").removeprefix("tasks:")
    if short in COLUMNS or (short.startswith("data.") and len(short) > 5):
        return short
    raise Invalid(f"{where}: unknown column '{name}'", field="query")


def _filters(raw: Any) -> tuple[str, tuple[Filter, ...]]:
    if raw is None:
        return "and", ()
    if not isinstance(raw, dict):
        raise Invalid("query.filters must be an object", field="query")
    conjunction = raw.get("conjunction", "and")
    if conjunction not in ("and", "or"):
        raise Invalid("query.filters.conjunction must be 'and' or 'or'", field="query")
    items = raw.get("items") or []
    if not isinstance(items, list):
        raise Invalid("query.filters.items must be a list", field="query")
    out = []
    for i, item in enumerate(items):
        where = f"query.filters.items[{i}]"
        if not isinstance(item, dict):
            raise Invalid(f"{where} must be an object", field="query")
        operator = item.get("operator")
        if operator not in OPERATORS:
            raise Invalid(f"{where}.operator: unknown operator '{operator}'", field="query")
        column = _column(item.get("filter"), f"{where}.filter")
        if operator in TEXT_OPERATORS and not column.startswith("data."):
            raise Invalid(f"{where}: '{operator}' applies to data fields only, not '{column}'", field="query")
        if operator == "regex":
            _check_pattern(item.get("value"), f"{where}.value")
        out.append(Filter(column, operator, item.get("value")))
    return conjunction, tuple(out)


def _check_pattern(value: Any, where: str) -> None:
    """A regex filter's pattern must be one the database can run: refused here, not failed there."""
    if not isinstance(value, str):
        raise Invalid(f"{where} must be a regular expression string", field="query")
    try:
        re.compile(value)
    except re.error as exc:
        raise Invalid(f"{where}: not a regular expression ({exc})", field="query") from None


def _selected(raw: Any) -> tuple[bool, tuple[int, ...]]:
    if raw is None:
        return True, ()
    if not isinstance(raw, dict):
        raise Invalid("query.selectedItems must be an object", field="query")
    every = bool(raw.get("all", True))
    ids = raw.get("excluded" if every else "included") or []
    try:
        return every, tuple(int(i) for i in ids)
    except (TypeError, ValueError):
        raise Invalid("query.selectedItems ids must be integers", field="query") from None


def parse_task_query(raw: str | None) -> TaskQuery:
    """Parse the JSON the SDKs send as `query`; errors name the part that is wrong."""
    if not raw:
        return TaskQuery()
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"query is not valid JSON: {exc}", field="query") from None
    if not isinstance(parsed, dict):
        raise Invalid("query must be a JSON object", field="query")
    conjunction, filters = _filters(parsed.get("filters"))
    ordering_raw = parsed.get("ordering") or []
    if not isinstance(ordering_raw, list):
        raise Invalid("query.ordering must be a list", field="query")
    ordering = tuple(
        (_column(o, "query.ordering"), isinstance(o, str) and o.startswith("-")) for o in ordering_raw
    )
    selected_all, ids = _selected(parsed.get("selectedItems"))
    return TaskQuery(conjunction, filters, ordering, selected_all, ids)
