"""COCO object detection: `result.json` in a zip, boxes and polygons in pixels."""

from datetime import UTC, datetime
from typing import Any

import orjson

from app.domain.exports.context import ExportContext
from app.domain.exports.geometry import (
    Box,
    Categories,
    ImageItem,
    Region,
    bounds,
    image_item,
    image_spec,
    in_pixels,
)
from app.domain.exports.writer import ExportWriter
from app.domain.exports.zipstream import ZipStream


class CocoWriter(ExportWriter):
    """Streams the annotations array and keeps only the images array back.

    COCO is one JSON object whose `images` and `annotations` arrays both grow with every task. The
    annotations are the bulk (one per region, polygons with all their points), so they go into the
    zip entry as each task arrives. Each image is one small record; they are kept as encoded bytes
    and written after the annotations, with the categories, which may still grow while tasks arrive
    (results can name labels the config lacks). Key order in a JSON object carries no meaning.
    """

    media_type = "application/zip"
    extension = "zip"

    def __init__(self, context: ExportContext, created: datetime | None = None) -> None:
        self.created = created or datetime.now(UTC)
        self.spec = image_spec(context)
        self.categories = Categories(self.spec.labels)
        self.archive = ZipStream(self.created)
        self.entry = self.archive.open("result.json")
        self.images = bytearray()
        self.image_count = 0
        self.annotation_count = 0

    def start(self) -> bytes:
        self.entry.write(b'{"annotations":[')
        return self.archive.drain()

    def write(self, task: dict[str, Any]) -> bytes:
        item = image_item(task, self.spec)
        if item is None:
            return b""
        image_id = self.image_count
        self.image_count += 1
        image = {"width": item.width, "height": item.height, "id": image_id, "file_name": item.path}
        self.images += (b"," if image_id else b"") + orjson.dumps(image)
        for annotation in self._annotations(item, image_id):
            self.entry.write((b"," if self.annotation_count else b"") + orjson.dumps(annotation))
            self.annotation_count += 1
        return self.archive.drain()

    def _annotations(self, item: ImageItem, image_id: int) -> list[dict[str, Any]]:
        """Regions of an image whose pixel size is unknown are left out, as Label Studio does."""
        if item.width is None or item.height is None:
            return []
        annotations: list[dict[str, Any]] = []
        for region in item.regions:
            shape = _shape(region, item.width, item.height)
            annotations.append(
                {
                    "id": self.annotation_count + len(annotations),
                    "image_id": image_id,
                    "category_id": self.categories.id_of(region.labels[0]),
                    **shape,
                    "ignore": 0,
                    "iscrowd": 0,
                }
            )
        return annotations

    def finish(self) -> bytes:
        self.entry.write(b'],"images":[')
        self.entry.write(self.images)
        self.entry.write(b"]")
        self.entry.write(b',"categories":' + orjson.dumps(self.categories.as_list()))
        self.entry.write(b',"info":' + orjson.dumps(self._info()) + b"}")
        self.entry.close()
        return self.archive.close()

    def _info(self) -> dict[str, Any]:
        return {
            "year": self.created.year,
            "version": "1.0",
            "description": "",
            "contributor": "Label Studio",
            "url": "",
            "date_created": str(self.created),
        }


def _shape(region: Region, width: int, height: int) -> dict[str, Any]:
    """segmentation, bbox and area in pixels: a polygon's area by the shoelace formula."""
    if isinstance(region, Box):
        x, y, w, h = bounds(region, width, height)
        return {"segmentation": [], "bbox": [x, y, w, h], "area": w * h}
    points = in_pixels(region, width, height)
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return {
        "segmentation": [[coordinate for point in points for coordinate in point]],
        "bbox": [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)],
        "area": _shoelace(points),
    }


def _shoelace(points: list[tuple[float, float]]) -> float:
    pairs = zip(points, points[1:] + points[:1], strict=True)
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairs)) / 2
