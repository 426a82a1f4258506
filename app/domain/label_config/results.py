"""Checking task data and results (annotations, predictions, drafts) against a label config."""

from typing import Any

from app.domain.errors import Invalid
from app.domain.label_config.messages import clip, listing
from app.domain.label_config.model import ControlTag, LabelConfig
from app.domain.label_config.tags import GEOMETRY_TYPES
from app.domain.label_config.values import check_value, fail

MAX_REGIONS = 10_000
_DIRECTIONS = ("right", "left", "bi")


def validate_task_data(config: LabelConfig, data: dict[str, Any]) -> None:
    """Every `$key` an object tag reads must be in the task's data, else the task cannot be shown."""
    if not isinstance(data, dict):
        raise Invalid("task data must be a JSON object", field="data")
    missing = sorted(key for key in config.data_keys if key not in data)
    if missing:
        readers = {obj.data_key: obj for obj in config.objects.values()}
        named = ", ".join(
            f"'{key}' (read by <{readers[key].tag} name=\"{readers[key].name}\">)" for key in missing
        )
        raise Invalid(f"task data lacks {named}; data keys present: {listing(sorted(data))}", field="data")


def accepted_types(config: LabelConfig, control: ControlTag) -> frozenset[str]:
    """A `Labels` control also labels the shapes of a `Rectangle`-like control on the same object."""
    types = {control.result_type}
    if control.result_type == "labels":
        types |= {
            other.result_type + "labels"
            for other in config.controls.values()
            if other.result_type in GEOMETRY_TYPES and set(other.to_names) & set(control.to_names)
        }
    return frozenset(types)


def _region_id(item: dict[str, Any]) -> str | int | None:
    region_id = item.get("id")
    return region_id if isinstance(region_id, str | int) and not isinstance(region_id, bool) else None


def validate_result(config: LabelConfig, result: list[dict[str, Any]]) -> None:
    """Refuse the whole result at the first item that does not fit the config, naming index and field."""
    if not isinstance(result, list):
        raise Invalid("result must be a list of region objects", field="result")
    if len(result) > MAX_REGIONS:
        raise Invalid(
            f"result has {len(result):,} regions; at most {MAX_REGIONS:,} are allowed", field="result"
        )
    for i, item in enumerate(result):
        if not isinstance(item, dict):
            fail(f"result[{i}]", "must be an object")
    ids = {region_id for item in result if (region_id := _region_id(item)) is not None}
    shaped = {_region_id(item) for item in result if _type(item) in GEOMETRY_TYPES} - {None}
    for i, item in enumerate(result):
        if item.get("type") == "relation":
            _check_relation(config, item, f"result[{i}]", ids)
        else:
            _check_region(config, item, f"result[{i}]", paired=_region_id(item) in shaped)


def _type(item: dict[str, Any]) -> str | None:
    result_type = item.get("type")
    return result_type if isinstance(result_type, str) else None


def _check_relation(config: LabelConfig, item: dict[str, Any], where: str, ids: set[str | int]) -> None:
    for key in ("from_id", "to_id"):
        if key not in item:
            fail(where, f"a relation needs '{key}'")
        if not isinstance(item[key], str | int) or item[key] not in ids:
            fail(f"{where}.{key}", f"'{clip(item[key])}' is not the id of a region in this result")
    if "direction" in item and item["direction"] not in _DIRECTIONS:
        fail(f"{where}.direction", f"must be one of {', '.join(_DIRECTIONS)}")
    labels = item.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        fail(f"{where}.labels", "must be a list of strings")
    for label in labels:
        if label not in config.relation_labels:
            known = listing(sorted(config.relation_labels))
            fail(f"{where}.labels", f"'{clip(label)}' is not a relation label of this config ({known})")


def _check_region(config: LabelConfig, item: dict[str, Any], where: str, *, paired: bool) -> None:
    control = _control(config, item, where)
    to_name = item.get("to_name")
    if not isinstance(to_name, str):
        fail(f"{where}.to_name", f"must name the object tag control '{control.name}' labels")
    for part in to_name.split(","):
        if part not in control.to_names:
            fail(
                f"{where}.to_name",
                f"'{clip(part)}' is not an object of control '{control.name}' ({listing(control.to_names)})",
            )
    result_type = _type(item)
    types = accepted_types(config, control)
    if result_type not in types:
        expected = " or ".join(f"'{t}'" for t in sorted(types))
        if "type" not in item:
            fail(where, f"'type' is missing; control '{control.name}' expects {expected}")
        fail(
            f"{where}.type",
            f"{clip(repr(item['type']))} does not fit control '{control.name}' (<{control.tag}>), "
            f"expected {expected}",
        )
    value = item.get("value")
    if not isinstance(value, dict):
        fail(f"{where}.value", "must be an object")
    check_value(config, control, result_type, value, f"{where}.value", paired=paired)


def _control(config: LabelConfig, item: dict[str, Any], where: str) -> ControlTag:
    from_name = item.get("from_name")
    if not isinstance(from_name, str):
        fail(f"{where}.from_name", "must name the control this region comes from")
    control = config.controls.get(from_name)
    if control is None:
        fail(
            f"{where}.from_name",
            f"'{clip(from_name)}' is not a control of this config ({listing(config.controls)})",
        )
    return control
