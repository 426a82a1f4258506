"""YOLO: a zip of `labels/<image stem>.txt` per image, then `classes.txt` and `notes.json`."""

from datetime import UTC, datetime
from typing import Any

import orjson

from app.domain.exports.context import ExportContext
from app.domain.exports.geometry import Box, Categories, ImageItem, bounds, entry_name, image_item, image_spec
from app.domain.exports.writer import ExportWriter
from app.domain.exports.zipstream import ZipStream


class YoloWriter(ExportWriter):
    """One label file per image, written as its task arrives; the class list comes last, as results
    may name labels the config lacks. An image with no regions gets an empty file, as in Label Studio.
    """

    media_type = "application/zip"
    extension = "zip"

    def __init__(self, context: ExportContext, created: datetime | None = None) -> None:
        self.created = created or datetime.now(UTC)
        self.spec = image_spec(context)
        self.categories = Categories(self.spec.labels)
        self.archive = ZipStream(self.created)

    def start(self) -> bytes:
        return b""

    def write(self, task: dict[str, Any]) -> bytes:
        item = image_item(task, self.spec)
        if item is None:
            return b""
        text = "".join(f"{line}\n" for line in self._lines(item))
        return self.archive.add(entry_name(self.archive, "labels", item, "txt"), text.encode())

    def _lines(self, item: ImageItem) -> list[str]:
        """`class cx cy w h` for a box, `class x1 y1 x2 y2 ...` for a polygon, 0..1 of the image.

        A region with several labels gives one line per label. A rotated box becomes the upright box
        around it; without the image's pixel size it is rotated as if the image were square.
        """
        lines = []
        for region in item.regions:
            if isinstance(region, Box):
                width, height = item.width or 100, item.height or 100
                x, y, w, h = bounds(region, width, height)
                numbers = [(x + w / 2) / width, (y + h / 2) / height, w / width, h / height]
            else:
                numbers = [coordinate / 100 for point in region.points for coordinate in point]
            for label in region.labels:
                lines.append(" ".join(map(str, [self.categories.id_of(label), *numbers])))
        return lines

    def finish(self) -> bytes:
        classes = "".join(f"{name}\n" for name in self.categories.ids)
        notes = {
            "categories": self.categories.as_list(),
            "info": {"year": self.created.year, "version": "1.0", "contributor": "Label Studio"},
        }
        return (
            self.archive.add("classes.txt", classes.encode())
            + self.archive.add("notes.json", orjson.dumps(notes, option=orjson.OPT_INDENT_2))
            + self.archive.close()
        )
