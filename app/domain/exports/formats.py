"""The catalogue of export formats, which ones a config supports, and the writer for each."""

from collections.abc import Callable
from typing import Any

from app.domain.errors import Invalid
from app.domain.exports.coco import CocoWriter
from app.domain.exports.conll import ConllWriter
from app.domain.exports.context import ExportContext
from app.domain.exports.geometry import draws
from app.domain.exports.json_tasks import JsonMinWriter, JsonWriter
from app.domain.exports.tabular import TabularWriter
from app.domain.exports.voc import VocWriter
from app.domain.exports.writer import ExportWriter
from app.domain.exports.yolo import YoloWriter

FORMATS: dict[str, dict[str, Any]] = {
    "JSON": {
        "title": "JSON",
        "description": "List of items in raw JSON format stored in one JSON file.",
        "tags": [],
    },
    "JSON_MIN": {
        "title": "JSON-MIN",
        "description": "List of items where only from_name/to_name values are kept, one per annotation.",
        "tags": [],
    },
    "CSV": {
        "title": "CSV",
        "description": "Results as a comma-separated table, one row per annotation.",
        "tags": [],
    },
    "TSV": {
        "title": "TSV",
        "description": "Results as a tab-separated table, one row per annotation.",
        "tags": [],
    },
    "CONLL2003": {
        "title": "CONLL2003",
        "description": "Text spans as one whitespace token per line with B-/I-/O tags, a blank line "
        "between documents.",
        "tags": ["sequence labeling", "text tagging", "named entity recognition"],
    },
    "COCO": {
        "title": "COCO",
        "description": "One result.json with images, categories and annotations: rectangles as pixel "
        "boxes, polygons as segmentations.",
        "tags": ["image segmentation", "object detection"],
    },
    "VOC": {
        "title": "Pascal VOC XML",
        "description": "One XML file per image with its rectangles as pixel bounding boxes.",
        "tags": ["object detection"],
    },
    "YOLO": {
        "title": "YOLO",
        "description": "One text file per image with a class index and normalized box or polygon "
        "coordinates per line, plus classes.txt.",
        "tags": ["image segmentation", "object detection"],
    },
}

# What a format needs of the labeling config; formats not listed fit any config.
REQUIRES: dict[str, Callable[[ExportContext], bool]] = {
    "CONLL2003": lambda context: any(c.object_tag == "Text" for c in context.of_type("Labels")),
    "COCO": lambda context: draws(context, "Rectangle", "Polygon"),
    "YOLO": lambda context: draws(context, "Rectangle", "Polygon"),
    "VOC": lambda context: draws(context, "Rectangle"),
}

WRITERS: dict[str, Callable[[ExportContext], ExportWriter]] = {
    "JSON": lambda _: JsonWriter(),
    "JSON_MIN": JsonMinWriter,
    "CSV": lambda context: TabularWriter(context, ","),
    "TSV": lambda context: TabularWriter(context, "\t"),
    "CONLL2003": ConllWriter,
    "COCO": CocoWriter,
    "VOC": VocWriter,
    "YOLO": YoloWriter,
}


def supported(context: ExportContext) -> set[str]:
    """Formats the project's config can produce."""
    return {name for name in FORMATS if name not in REQUIRES or REQUIRES[name](context)}


def export_formats(context: ExportContext) -> list[dict[str, Any]]:
    """Label Studio's format list: enabled formats first."""
    enabled = supported(context)
    items = [{"name": name, **info, "disabled": name not in enabled} for name, info in FORMATS.items()]
    return sorted(items, key=lambda item: item["disabled"])


def writer_for(export_type: str, context: ExportContext) -> ExportWriter:
    name = export_type.upper()
    if name not in FORMATS:
        raise Invalid(
            f"unknown export type '{export_type}'; use one of {', '.join(FORMATS)}", field="exportType"
        )
    if name not in supported(context):
        raise Invalid(f"{name} export does not fit this project's labeling config", field="exportType")
    return WRITERS[name](context)
