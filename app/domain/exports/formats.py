"""The catalogue of export formats, which ones a config supports, and the writer for each."""

from typing import Any, Protocol

from app.domain.errors import Invalid
from app.domain.exports.context import ExportContext
from app.domain.exports.json_tasks import JsonMinWriter, JsonWriter
from app.domain.exports.tabular import TabularWriter


class ExportWriter(Protocol):
    media_type: str
    extension: str

    def start(self) -> bytes: ...

    def write(self, task: dict[str, Any]) -> bytes: ...

    def finish(self) -> bytes: ...


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
}


def supported(context: ExportContext) -> set[str]:
    """Formats the project's config can produce."""
    return set(FORMATS)


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
    if name == "JSON":
        return JsonWriter()
    if name == "JSON_MIN":
        return JsonMinWriter(context)
    return TabularWriter(context, "," if name == "CSV" else "\t")
