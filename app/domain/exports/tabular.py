"""CSV and TSV: JSON_MIN rows flattened under alphabetically sorted columns decided up front."""

import csv
import io
from typing import Any

import orjson

from app.domain.exports.context import ExportContext
from app.domain.exports.json_tasks import min_rows

SCALARS = frozenset({str, int, float, bool})
FIXED = ("annotation_id", "annotator", "created_at", "id", "lead_time", "updated_at")


class TabularWriter:
    media_type = "text/csv"

    def __init__(self, context: ExportContext, delimiter: str) -> None:
        self.columns = sorted(set(FIXED) | set(context.data_keys) | {c.name for c in context.controls})
        self.delimiter = delimiter
        self.extension = "csv" if delimiter == "," else "tsv"
        if delimiter != ",":
            self.media_type = "text/tab-separated-values"
        self.buffer = io.StringIO()
        self.csv = csv.writer(self.buffer, delimiter=delimiter, lineterminator="\n")

    def _flush(self) -> bytes:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text.encode()

    def start(self) -> bytes:
        self.csv.writerow(self.columns)
        return self._flush()

    def write(self, task: dict[str, Any]) -> bytes:
        self.csv.writerows([_cell(row.get(column)) for column in self.columns] for row in min_rows(task))
        return self._flush()

    def finish(self) -> bytes:
        return b""


def _cell(value: Any) -> Any:
    """Scalars as they are, everything else as JSON text; missing values as empty cells."""
    if value is None:
        return ""
    if type(value) in SCALARS:
        return value
    return orjson.dumps(value).decode()
