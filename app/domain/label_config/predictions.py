"""Prediction results in the short forms Label Studio clients send, turned into full result lists.

The legacy SDK's `create_prediction(task, result)` takes a list of items, a bare `value` dict, or a
bare label; Label Studio expands the short forms against the config (ls-api 1.2 step 8).
"""

from collections.abc import Callable
from typing import Any

from app.domain.errors import Invalid
from app.domain.label_config.messages import clip
from app.domain.label_config.model import ControlTag, LabelConfig
from app.domain.label_config.results import validate_result
from app.domain.label_config.tags import VALUE_KEY

_Label = str | int | float


def _rating(label: _Label) -> int:
    if isinstance(label, float) or (isinstance(label, str) and not label.isdigit()):
        raise ValueError(label)
    return int(label)


# Controls a bare label can answer, in the order Label Studio tries them, with how the label becomes a value.
_LABEL_VALUES: dict[str, Callable[[_Label], Any]] = {
    "choices": lambda label: [str(label)],
    "rating": _rating,
    "number": float,
    "textarea": lambda label: [str(label)],
    "taxonomy": lambda label: [[str(label)]],
}


def _item(control: ControlTag, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "from_name": control.name,
        "to_name": ",".join(control.to_names),
        "type": control.result_type,
        "value": value,
    }


def _from_value(config: LabelConfig, value: dict[str, Any]) -> dict[str, Any]:
    """The first control whose type (or, failing that, whose answer key) is a key of the value."""
    controls = list(config.controls.values())
    found = next((c for c in controls if c.result_type in value), None) or next(
        (c for c in controls if VALUE_KEY.get(c.result_type, "") in value), None
    )
    if found is None:
        wanted = ", ".join(sorted({c.result_type for c in controls})) or "none, the config has no controls"
        raise Invalid(
            f"prediction value has no key naming a control type of this config ({wanted})", field="result"
        )
    return _item(found, value)


def _from_label(config: LabelConfig, label: _Label) -> dict[str, Any]:
    for result_type, convert in _LABEL_VALUES.items():
        control = next((c for c in config.controls.values() if c.result_type == result_type), None)
        if control is None:
            continue
        try:
            answer = convert(label)
        except ValueError:
            raise Invalid(
                f"prediction '{clip(label)}' is not a valid {result_type} for control '{control.name}'",
                field="result",
            ) from None
        return _item(control, {VALUE_KEY.get(result_type, result_type): answer})
    raise Invalid(
        f"prediction '{clip(label)}' is a bare label, but the config has no control that takes one "
        "(Choices, Rating, Number, TextArea, Taxonomy)",
        field="result",
    )


def normalize_prediction_result(config: LabelConfig, result: object) -> list[dict[str, Any]]:
    """A checked result list from a list, a single item, a bare value dict or a bare label."""
    if isinstance(result, list):
        items = result
    elif isinstance(result, dict):
        items = [result if "from_name" in result and "value" in result else _from_value(config, result)]
    elif isinstance(result, str | int | float) and not isinstance(result, bool):
        items = [_from_label(config, result)]
    else:
        raise Invalid(
            "prediction result must be a list of regions, a value object or a label", field="result"
        )
    validate_result(config, items)
    return items
