"""Pascal VOC: a zip of `Annotations/<image stem>.xml`, one per image with boxes, rectangles only."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from app.domain.exports.context import ExportContext
from app.domain.exports.geometry import Box, ImageItem, bounds, entry_name, file_name, image_item, image_spec
from app.domain.exports.writer import ExportWriter
from app.domain.exports.zipstream import ZipStream


class VocWriter(ExportWriter):
    """One XML file per image, written as its task arrives.

    Images without boxes, or whose pixel size the annotations do not give, get no file: VOC's
    `<size>` and pixel coordinates need it (Label Studio skips them too).
    """

    media_type = "application/zip"
    extension = "zip"

    def __init__(self, context: ExportContext, created: datetime | None = None) -> None:
        self.spec = image_spec(context)
        self.archive = ZipStream(created or datetime.now(UTC))

    def start(self) -> bytes:
        return b""

    def write(self, task: dict[str, Any]) -> bytes:
        item = image_item(task, self.spec)
        if item is None or item.width is None or item.height is None:
            return b""
        boxes = [r for r in item.regions if isinstance(r, Box)]
        if not boxes:
            return b""
        document = _document(item, item.width, item.height, boxes)
        return self.archive.add(entry_name(self.archive, "Annotations", item, "xml"), document)

    def finish(self) -> bytes:
        return self.archive.close()


def _document(item: ImageItem, width: int, height: int, boxes: list[Box]) -> bytes:
    """The annotation XML; coordinates are whole pixels, cut down as Label Studio does."""
    root = ET.Element("annotation")
    _child(root, "folder", "images")
    _child(root, "filename", file_name(item))
    _child(root, "path", item.path)
    _child(_child(root, "source"), "database", "Unknown")
    size = _child(root, "size")
    for key, number in (("width", width), ("height", height), ("depth", 3)):
        _child(size, key, str(number))
    _child(root, "segmented", "0")
    for box in boxes:
        _object(root, box, width, height)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def _object(root: ET.Element, box: Box, width: int, height: int) -> None:
    x, y, w, h = bounds(box, width, height)
    xmin, ymin = int(x), int(y)
    element = _child(root, "object")
    facts = {"name": box.labels[0], "pose": "Unspecified", "truncated": "0", "difficult": "0"}
    for key, text in facts.items():
        _child(element, key, text)
    corners = {"xmin": xmin, "ymin": ymin, "xmax": xmin + int(w), "ymax": ymin + int(h)}
    bndbox = _child(element, "bndbox")
    for key, number in corners.items():
        _child(bndbox, key, str(number))


def _child(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element
