"""Checking the `value` of one result item against its control (shapes of ls-api section 7.2).

Geometry keys are checked wherever they appear, because per-region controls copy their region's
geometry into their own value. Keys not named here are kept and never refused.
"""

import math
from collections.abc import Callable
from typing import Any, NoReturn, TypeGuard

from app.domain.errors import Invalid
from app.domain.label_config.messages import clip, listing
from app.domain.label_config.model import ControlTag, LabelConfig
from app.domain.label_config.tags import LABEL_LIST_TYPES, REQUIRED_KEYS, VALUE_KEY

PERCENT_TOLERANCE = 1e-3
_PERCENT_KEYS = ("x", "y", "width", "height", "radiusX", "radiusY")


def fail(where: str, message: str) -> NoReturn:
    raise Invalid(f"{where}: {message}", field="result")


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _str_list(items: object, where: str, *, allow_empty: bool = True) -> list[str]:
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        fail(where, "must be a list of strings")
    if not items and not allow_empty:
        fail(where, "must name at least one label")
    return items


def _need_number(number: object, where: str) -> float:
    if not is_number(number):
        fail(where, "must be a number")
    return number


def _percent(number: object, where: str) -> None:
    number = _need_number(number, where)
    if not -PERCENT_TOLERANCE <= number <= 100 + PERCENT_TOLERANCE:
        fail(where, f"{number} is outside 0..100 (percent of the object's size)")


def _points(points: object, where: str) -> None:
    if not isinstance(points, list):
        fail(where, "must be a list of [x, y] points")
    for i, point in enumerate(points):
        if not isinstance(point, list) or len(point) != 2:
            fail(f"{where}[{i}]", "must be an [x, y] pair")
        _percent(point[0], f"{where}[{i}][0]")
        _percent(point[1], f"{where}[{i}][1]")


def _check_geometry(value: dict[str, Any], where: str) -> None:
    for key in _PERCENT_KEYS:
        if key in value:
            _percent(value[key], f"{where}.{key}")
    if "rotation" in value and not is_number(value["rotation"]):
        fail(f"{where}.rotation", "must be a number of degrees")
    if "points" in value:
        _points(value["points"], f"{where}.points")
    for key in ("startOffset", "endOffset"):
        if key in value and (
            not isinstance(value[key], int) or isinstance(value[key], bool) or value[key] < 0
        ):
            fail(f"{where}.{key}", "must be a whole number >= 0")
    _check_span(value, where)


def _check_span(value: dict[str, Any], where: str) -> None:
    """Text offsets, seconds or timestamps; numbers must be ordered, other forms (XPaths) are kept."""
    for key in ("start", "end"):
        if key in value and not (is_number(value[key]) or isinstance(value[key], str)):
            fail(f"{where}.{key}", "must be a number or a string")
    start, end = value.get("start"), value.get("end")
    if is_number(start) and start < 0:
        fail(f"{where}.start", f"{start} must be >= 0")
    if is_number(start) and is_number(end) and start > end:
        fail(f"{where}.end", f"{end} is before start {start}")


def _check_labels(config: LabelConfig, control: ControlTag, key: str, labels: object, where: str) -> None:
    items = _str_list(labels, where, allow_empty=False)
    if control.choice == "single" and len(items) > 1:
        fail(
            where, f"control '{control.name}' allows one label per item (choice=\"single\"), got {len(items)}"
        )
    if control.dynamic:
        return
    accepted = known_labels(config, control)
    noun = "choice" if key == "choices" else "label"
    for item in items:
        if item not in accepted:
            fail(
                where,
                f"'{clip(item)}' is not a {noun} of control '{control.name}' ({listing(control.labels)})",
            )


def known_labels(config: LabelConfig, control: ControlTag) -> frozenset[str]:
    """A control's labels and aliases; a VideoRectangle takes those of any control on its video."""
    if control.result_type != "videorectangle":
        return control.accepted_labels
    found: set[str] = set()
    for other in config.controls.values():
        if set(other.to_names) & set(control.to_names):
            found |= other.accepted_labels
    return frozenset(found)


def _text(control: ControlTag, text: object, where: str) -> None:
    if not isinstance(text, str):
        _str_list(text, where)


def _rating(control: ControlTag, rating: object, where: str) -> None:
    if not isinstance(rating, int) or isinstance(rating, bool) or rating < 0:
        fail(where, "must be a whole number >= 0")
    top = control.attr("maxRating")
    if top is not None and rating > float(top):
        fail(where, f"{rating} is above maxRating {top} of control '{control.name}'")


def _number(control: ControlTag, number: object, where: str) -> None:
    number = _need_number(number, where)
    low, high = control.attr("min"), control.attr("max")
    if low is not None and number < float(low):
        fail(where, f"{number} is below min {low} of control '{control.name}'")
    if high is not None and number > float(high):
        fail(where, f"{number} is above max {high} of control '{control.name}'")


def _string(control: ControlTag, text: object, where: str) -> None:
    if not isinstance(text, str):
        fail(where, "must be a string")


def _taxonomy(control: ControlTag, paths: object, where: str) -> None:
    if not isinstance(paths, list):
        fail(where, "must be a list of paths, each a list of strings")
    for i, path in enumerate(paths):
        _str_list(path, f"{where}[{i}]", allow_empty=False)
        resolved = tuple(control.aliases.get(step, step) for step in path)
        if not control.dynamic and resolved not in control.taxonomy:
            fail(f"{where}[{i}]", f"{clip(' / '.join(path))} is not a path of taxonomy '{control.name}'")


def _ranker(control: ControlTag, ranking: object, where: str) -> None:
    if not isinstance(ranking, dict):
        fail(where, "must be an object mapping each bucket to a list of item ids")
    for bucket, items in ranking.items():
        _str_list(items, f"{where}.{clip(bucket)}")


def _object(control: ControlTag, item: object, where: str) -> None:
    if not isinstance(item, dict):
        fail(where, "must be an object")


def _dicts(items: object, where: str) -> list[dict[str, Any]]:
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        fail(where, "must be a list of objects")
    return items


def _sequence(control: ControlTag, frames: object, where: str) -> None:
    _dicts(frames, where)


def _ranges(control: ControlTag, ranges: object, where: str) -> None:
    for i, span in enumerate(_dicts(ranges, where)):
        _check_span(span, f"{where}[{i}]")


def _vertices(control: ControlTag, vertices: object, where: str) -> None:
    for i, vertex in enumerate(_dicts(vertices, where)):
        for key in ("x", "y"):
            _percent(vertex.get(key), f"{where}[{i}].{key}")


def _rle(control: ControlTag, rle: object, where: str) -> None:
    if not isinstance(rle, list) or not all(isinstance(n, int) and not isinstance(n, bool) for n in rle):
        fail(where, "must be a list of whole numbers")


_Check = Callable[[ControlTag, object, str], None]
# Extra checks by value key; the key is where a check applies, whatever the result type.
_KEY_CHECKS: dict[str, _Check] = {
    "rating": _rating,
    "number": _number,
    "datetime": _string,
    "selected": _string,
    "taxonomy": _taxonomy,
    "ranker": _ranker,
    "chatmessage": _object,
    "sequence": _sequence,
    "ranges": _ranges,
    "vertices": _vertices,
    "rle": _rle,
    "format": _string,
}


def check_value(
    config: LabelConfig,
    control: ControlTag,
    result_type: str,
    value: dict[str, Any],
    where: str,
    *,
    paired: bool,
) -> None:
    """`paired` is true when a geometry item with the same id carries this labels item's shape."""
    required = [VALUE_KEY.get(result_type, result_type if result_type in LABEL_LIST_TYPES else "")]
    if not paired:
        required += REQUIRED_KEYS.get(result_type, ())
    for key in filter(None, required):
        if key not in value:
            fail(where, f"a '{result_type}' value needs the key '{key}'")
    _check_geometry(value, where)
    for key, check in _KEY_CHECKS.items():
        if key in value:
            check(control, value[key], f"{where}.{key}")
    if result_type == "textarea":
        _text(control, value["text"], f"{where}.text")
    if result_type in LABEL_LIST_TYPES:
        _check_labels(config, control, result_type, value[result_type], f"{where}.{result_type}")
    elif result_type == "videorectangle" and "labels" in value:
        _check_labels(config, control, "labels", value["labels"], f"{where}.labels")
