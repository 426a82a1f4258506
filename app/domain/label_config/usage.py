"""Which controls, types and labels stored results use, and which config changes would orphan them.

Usage is counted per annotation (a label used by three regions of one annotation counts once), so
the counts read as "used by N annotations". A key with label "" counts the control/type itself.
Taxonomy paths count as one label, their steps joined with " / ". Relations count under from_name "".
"""

from collections import Counter
from collections.abc import Iterable
from typing import Any

from app.domain.label_config.model import ControlTag, LabelConfig
from app.domain.label_config.results import accepted_types
from app.domain.label_config.tags import label_key
from app.domain.label_config.values import known_labels

UsageKey = tuple[str, str, str]
PATH_SEPARATOR = " / "


def _labels(item: dict[str, Any], result_type: str) -> list[str]:
    if result_type == "relation":
        labels = item.get("labels")
    else:
        key = label_key(result_type)
        value = item.get("value")
        labels = value.get(key) if key and isinstance(value, dict) else None
    if not isinstance(labels, list):
        return []
    if result_type == "taxonomy":
        return [
            PATH_SEPARATOR.join(path)
            for path in labels
            if isinstance(path, list) and all(isinstance(s, str) for s in path)
        ]
    return [label for label in labels if isinstance(label, str)]


def _keys(result: list[dict[str, Any]]) -> set[UsageKey]:
    """Stored results are read leniently: items of an unexpected shape are skipped, never refused."""
    keys: set[UsageKey] = set()
    for item in result if isinstance(result, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            continue
        result_type = item["type"]
        from_name = item.get("from_name") if result_type != "relation" else ""
        if not isinstance(from_name, str):
            continue
        keys.add((from_name, result_type, ""))
        keys.update((from_name, result_type, label) for label in _labels(item, result_type))
    return keys


def result_usage(results: Iterable[list[dict[str, Any]]]) -> Counter[UsageKey]:
    """Counts of (from_name, type, label or "") over annotations' results, one count per annotation."""
    usage: Counter[UsageKey] = Counter()
    for result in results:
        usage.update(_keys(result))
    return usage


def _is_known(config: LabelConfig, control: ControlTag, label: str) -> bool:
    if control.result_type != "taxonomy":
        return label in known_labels(config, control)
    steps = tuple(control.aliases.get(step, step) for step in label.split(PATH_SEPARATOR))
    return steps in control.taxonomy


def _control_break(new: LabelConfig, from_name: str, result_type: str, used: str) -> str:
    control = new.controls.get(from_name)
    if control is None:
        return f"control '{from_name}' ({result_type}) is {used} but is not in the new config"
    now = control.result_type
    return f"control '{from_name}' now makes '{now}' results; its '{result_type}' results are {used}"


def _breaks(new: LabelConfig, key: UsageKey, count: int) -> str | None:
    from_name, result_type, label = key
    used = f"used by {count} annotation{'s' if count != 1 else ''}"
    if result_type == "relation":
        if label and label not in new.relation_labels:
            return f"relation label '{label}' is {used}"
        return None
    control = new.controls.get(from_name)
    if control is None or result_type not in accepted_types(new, control):
        return None if label else _control_break(new, from_name, result_type, used)
    if label and not control.dynamic and not _is_known(new, control, label):
        return f"label '{label}' of control '{from_name}' is {used}"
    return None


def breaking_changes(new: LabelConfig, usage: Counter[UsageKey]) -> list[str]:
    """Lines naming what existing annotations use that `new` drops; an empty list means the change is safe."""
    return [line for key in sorted(usage) if usage[key] > 0 and (line := _breaks(new, key, usage[key]))]
