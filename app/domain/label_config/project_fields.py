"""Project fields Label Studio derives from a config: `parsed_label_config`, default `control_weights`."""

from typing import Any

from app.domain.label_config.model import LabelConfig, get_attr


def parsed_label_config(config: LabelConfig) -> dict[str, Any]:
    """LS shape: {control: {type, to_name, inputs: [{type, valueType, value}], labels, labels_attrs}}."""
    parsed: dict[str, Any] = {}
    for control in config.controls.values():
        inputs = [
            {
                "type": obj.tag,
                "valueType": get_attr(obj.attrs, "valueType"),
                "value": obj.value.removeprefix("$"),
            }
            for name in control.to_names
            if (obj := config.objects.get(name))
        ]
        parsed[control.name] = {
            "type": control.tag,
            "to_name": list(control.to_names),
            "inputs": inputs,
            "labels": list(control.labels),
            "labels_attrs": {label: dict(attrs) for label, attrs in control.label_attrs.items()},
        }
    return parsed


def default_control_weights(config: LabelConfig) -> dict[str, Any]:
    """Every control and label weighs 1.0 in agreement until an admin says otherwise."""
    return {
        control.name: {"overall": 1.0, "type": control.tag, "labels": dict.fromkeys(control.labels, 1.0)}
        for control in config.controls.values()
    }
