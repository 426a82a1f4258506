"""What a writer needs to know of the labeling config and the task data."""

from collections.abc import Iterable
from dataclasses import dataclass

from app.domain.label_config import LabelConfig


@dataclass(frozen=True)
class Control:
    name: str
    tag: str  # canonical tag name, e.g. "RectangleLabels"
    result_type: str
    labels: tuple[str, ...]
    object_tag: str  # the tag of the first object it labels, e.g. "Image"
    data_key: str | None  # that object's data key, e.g. "image"


@dataclass(frozen=True)
class ExportContext:
    controls: tuple[Control, ...]
    data_keys: tuple[str, ...]  # every data key the project's tasks use, sorted

    def of_type(self, *tags: str) -> tuple[Control, ...]:
        return tuple(c for c in self.controls if c.tag in tags)


def export_context(config: LabelConfig, data_keys: Iterable[str] = ()) -> ExportContext:
    controls = []
    for control in config.controls.values():
        target = config.objects.get(control.to_names[0]) if control.to_names else None
        controls.append(
            Control(
                name=control.name,
                tag=control.tag,
                result_type=control.result_type,
                labels=control.labels,
                object_tag=target.tag if target else "",
                data_key=target.data_key if target else None,
            )
        )
    return ExportContext(tuple(controls), tuple(sorted(set(data_keys) | config.data_keys)))
