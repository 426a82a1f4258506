"""Label Studio's Data Manager `query` (filters, ordering, selected items), parsed and checked."""

import contextlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from app.domain.errors import Invalid

# what a filter compares: a task column's type; a data field's numbers, true/false, or its text
Kind = Literal["integer", "boolean", "datetime", "number", "text"]
KINDS: dict[str, Kind] = {
    "id": "integer",
    "inner_id": "integer",
    "completed_at": "datetime",
    "created_at": "datetime",
    "updated_at": "datetime",
    "total_annotations": "integer",
    "cancelled_annotations": "integer",
    "total_predictions": "integer",
    "is_labeled": "boolean",
    "overlap": "integer",
}
COLUMNS = frozenset(KINDS)
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
COMPARISONS = frozenset({"equal", "not_equal", "less", "greater", "less_or_equal", "greater_or_equal"})
EQUALITIES = frozenset({"equal", "not_equal", "in_list", "not_in_list"})  # all that true/false takes
BIGINT = 2**63


@dataclass(frozen=True)
class Filter:
    """One condition, its value already of the kind it compares: an int, a bool or an aware
    datetime for a task column; for a data field, floats or bools when every value given is a
    number or true/false (the field's numbers or true/false are compared), text otherwise."""

    column: str  # a task column, or "data.<key>"
    operator: str
    value: Any
    kind: Kind = "text"

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
        if not isinstance(operator, str) or operator not in OPERATORS:
            raise Invalid(f"{where}.operator: unknown operator '{operator}'", field="query")
        column = _column(item.get("filter"), f"{where}.filter")
        if operator in TEXT_OPERATORS and not column.startswith("data."):
            raise Invalid(f"{where}: '{operator}' applies to data fields only, not '{column}'", field="query")
        if operator == "regex":
            _check_pattern(item.get("value"), f"{where}.value")
        out.append(_filter(column, operator, item.get("value"), f"{where}.value"))
    return conjunction, tuple(out)


def _filter(column: str, operator: str, value: Any, where: str) -> Filter:
    """The filter with its value checked and converted for the column: what the database cannot
    compare is refused here, naming the item, rather than failed there."""
    if operator == "empty":
        return Filter(column, operator, truthy(value))
    if operator in TEXT_OPERATORS:
        return Filter(column, operator, _text(value, where))
    if operator in ("in", "not_in"):
        if not isinstance(value, dict) or "min" not in value or "max" not in value:
            raise Invalid(f"{where} must be an object {{min, max}} for '{operator}'", field="query")
        given = {f"{where}.{k}": value[k] for k in ("min", "max")}
    elif operator in ("in_list", "not_in_list"):
        if not isinstance(value, list):
            raise Invalid(f"{where} must be a list for '{operator}'", field="query")
        given = {f"{where}[{i}]": v for i, v in enumerate(value)}
    elif value is None:  # equal / not_equal null: the column is (not) empty
        if operator not in ("equal", "not_equal"):
            raise Invalid(f"{where}: '{operator}' needs a value, not null", field="query")
        return Filter(column, operator, None)
    else:
        given = {where: value}
    kind = KINDS.get(column) or _data_kind(list(given.values()))
    if kind == "boolean" and operator not in EQUALITIES:
        raise Invalid(f"{where}: '{operator}' does not apply to true or false", field="query")
    values = tuple(_scalar(kind, v, at) for at, v in given.items())
    return Filter(column, operator, values if operator not in COMPARISONS else values[0], kind)


def _data_kind(values: list[Any]) -> Kind:
    """What a data field is compared as: its numbers, or its true/false, when every value given is
    one; otherwise its text."""
    if all(_is_number(v) for v in values):
        return "number"
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    return "text"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scalar(kind: Kind, value: Any, where: str) -> Any:
    if kind == "integer":
        return _integer(value, where)
    if kind == "boolean":
        if value in (True, False, "true", "True", "1", "false", "False", "0"):  # 1 and 0 equal True, False
            return truthy(value)
        raise Invalid(f"{where}: {_shown(value)} is not true or false", field="query")
    if kind == "datetime":
        return _datetime(value, where)
    if kind == "number":
        return float(value)
    return _text(value, where)


def _integer(value: Any, where: str) -> int:
    """A whole number, also as 3.0 or "3"; within 64 bits, as every integer column is."""
    number = value
    if isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):  # not a number: refused below
            number = int(value)
    if isinstance(number, bool) or not isinstance(number, int):
        raise Invalid(f"{where}: {_shown(value)} is not a whole number", field="query")
    if not -BIGINT <= number < BIGINT:
        raise Invalid(f"{where}: {_shown(value)} is out of range", field="query")
    return number


def _datetime(value: Any, where: str) -> datetime:
    """An ISO date and time; one without a zone is UTC."""
    if not isinstance(value, str):
        raise Invalid(f"{where}: {_shown(value)} is not a date and time", field="query")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{where}: {_shown(value)} is not a date and time", field="query") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: Any, where: str) -> str:
    """A data field's value as the text the database holds: numbers and booleans as JSON writes
    them; nothing (null) as empty text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    raise Invalid(f"{where} must be text or a number, not {type(value).__name__}", field="query")


def _shown(value: Any) -> str:
    """A value in an error message, cut short."""
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


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
