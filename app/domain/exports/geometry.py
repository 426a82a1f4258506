"""Image regions of a task, read from its submitted annotations, for COCO, YOLO and VOC.

Label Studio stores shapes in percent of the image (`x`, `y`, `width`, `height`, polygon `points`)
and the image's pixel size beside them (`original_width`, `original_height`); the writers turn
those into the pixels or fractions each format wants.
"""

import math
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.domain.exports.context import Control, ExportContext
from app.domain.exports.json_tasks import completed
from app.domain.exports.zipstream import ZipStream
from app.domain.label_config.values import is_number

SHAPE_TAGS = {"Rectangle": "RectangleLabels", "Polygon": "PolygonLabels"}
IMAGE_CONTROLS = ("RectangleLabels", "PolygonLabels", "Labels", "Rectangle", "Polygon")
BOX_TYPES = frozenset(("rectanglelabels", "rectangle"))
POLYGON_TYPES = frozenset(("polygonlabels", "polygon"))
MAX_STEM = 251  # file names stay within 255 bytes with their extension, as Label Studio cuts them


@dataclass(frozen=True)
class Box:
    """A rectangle in percent; `rotation` is in degrees, clockwise around its top-left corner."""

    labels: tuple[str, ...]
    x: float
    y: float
    width: float
    height: float
    rotation: float = 0.0


@dataclass(frozen=True)
class Polygon:
    labels: tuple[str, ...]
    points: tuple[tuple[float, float], ...]  # percent


Region = Box | Polygon


@dataclass(frozen=True)
class ImageItem:
    task_id: int
    path: str  # the task's image URL or path, as stored
    width: int | None  # pixels, when the annotations carry it
    height: int | None
    regions: tuple[Region, ...]


@dataclass(frozen=True)
class ImageSpec:
    """Where a project's image is and which controls draw on it."""

    data_key: str | None
    controls: frozenset[str]
    labels: tuple[str, ...]  # every label of those controls, config order, no repeats


def _image_controls(context: ExportContext) -> tuple[Control, ...]:
    return tuple(c for c in context.of_type(*IMAGE_CONTROLS) if c.object_tag == "Image")


def draws(context: ExportContext, *shapes: str) -> bool:
    """Whether annotators can draw one of `shapes` ("Rectangle", "Polygon") with a label on an image."""
    tags = {c.tag for c in _image_controls(context)}
    return any(SHAPE_TAGS[shape] in tags or {shape, "Labels"} <= tags for shape in shapes)


def image_spec(context: ExportContext) -> ImageSpec:
    """The first labeled image of the config; regions on any other object are left out."""
    controls = _image_controls(context)
    data_key = controls[0].data_key if controls else None
    mine = [c for c in controls if c.data_key == data_key]
    labels = dict.fromkeys(label for c in mine for label in c.labels)
    return ImageSpec(data_key, frozenset(c.name for c in mine), tuple(labels))


def image_item(task: dict[str, Any], spec: ImageSpec) -> ImageItem | None:
    """The task's image and regions; None when every annotation of it is a skip.

    Regions of all submitted annotations are kept, as Label Studio's converter exports each of them.
    """
    annotations = task.get("annotations") or []
    kept = list(completed(task))
    if annotations and not kept:
        return None
    items = [r for a in kept for r in a.get("result") or [] if r.get("from_name") in spec.controls]
    sized = next((r for r in items if "original_width" in r and "original_height" in r), None)
    return ImageItem(
        task_id=task["id"],
        path=_path(task.get("data", {}).get(spec.data_key or "")),
        width=_pixels(sized["original_width"]) if sized else None,
        height=_pixels(sized["original_height"]) if sized else None,
        regions=tuple(_regions(items)),
    )


def _path(value: Any) -> str:
    if isinstance(value, list) and value:
        value = value[0]
    return value if isinstance(value, str) else ""


MAX_PIXELS = 2**31 - 1


def _pixels(value: Any) -> int | None:
    """An image side in pixels; anything else (a string, 0, an absurd size) leaves the size unknown."""
    return int(value) if is_number(value) and 0 < value <= MAX_PIXELS else None


def _regions(items: Iterable[dict[str, Any]]) -> Iterator[Region]:
    for item in items:
        kind, value = item.get("type"), item.get("value")
        if not isinstance(value, dict) or not isinstance(kind, str):
            continue
        labels = value.get(kind) or value.get("labels")
        if not isinstance(labels, list) or not labels:
            continue
        try:
            if kind in BOX_TYPES:
                yield _box(tuple(map(str, labels)), value)
            elif kind in POLYGON_TYPES and len(value["points"]) >= 3:
                points = tuple((float(x), float(y)) for x, y in value["points"])
                yield Polygon(tuple(map(str, labels)), points)
        except (KeyError, TypeError, ValueError):
            continue  # a malformed shape is left out rather than failing the whole export


def _box(labels: tuple[str, ...], value: dict[str, Any]) -> Box:
    x, y, width, height = (float(value[key]) for key in ("x", "y", "width", "height"))
    return Box(labels, x, y, width, height, float(value.get("rotation") or 0))


def bounds(box: Box, width: float, height: float) -> tuple[float, float, float, float]:
    """x, y, w, h in pixels of the axis-aligned box around the rectangle, rotated in pixel space."""
    x, y = box.x * width / 100, box.y * height / 100
    w, h = box.width * width / 100, box.height * height / 100
    if not box.rotation:
        return x, y, w, h
    cos, sin = math.cos(math.radians(box.rotation)), math.sin(math.radians(box.rotation))
    corners = [(dx * cos - dy * sin, dx * sin + dy * cos) for dx, dy in ((0, 0), (w, 0), (w, h), (0, h))]
    xs, ys = [x + cx for cx, _ in corners], [y + cy for _, cy in corners]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def in_pixels(polygon: Polygon, width: float, height: float) -> list[tuple[float, float]]:
    return [(x * width / 100, y * height / 100) for x, y in polygon.points]


def file_name(item: ImageItem) -> str:
    """The image's file name; local-storage URLs name the file in `?d=`; the task id when there is none."""
    try:
        parts = urlsplit(item.path)
    except ValueError:  # not a URL (an unbalanced "[" ...): the path as given
        return posixpath.basename(item.path) or str(item.task_id)
    local = parse_qs(parts.query).get("d")
    return posixpath.basename(local[0] if local else parts.path) or str(item.task_id)


def file_stem(item: ImageItem) -> str:
    return posixpath.splitext(file_name(item))[0][:MAX_STEM] or str(item.task_id)


def entry_name(archive: ZipStream, folder: str, item: ImageItem, extension: str) -> str:
    """`<folder>/<image stem>.<extension>`; of two tasks showing same-named images the later adds its id."""
    stem = file_stem(item)
    name = f"{folder}/{stem}.{extension}"
    return f"{folder}/{stem}-{item.task_id}.{extension}" if archive.has(name) else name


class Categories:
    """Label names to ids from 0: the config's labels in order, then any other label a result names."""

    def __init__(self, names: Iterable[str]) -> None:
        self.ids: dict[str, int] = {}
        for name in names:
            self.id_of(name)

    def id_of(self, name: str) -> int:
        return self.ids.setdefault(name, len(self.ids))

    def as_list(self) -> list[dict[str, Any]]:
        return [{"id": i, "name": name} for name, i in self.ids.items()]
