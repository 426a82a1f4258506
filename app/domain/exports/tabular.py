"""CSV and TSV: JSON_MIN rows flattened under alphabetically sorted columns decided up front."""

import re
from typing import Any

import orjson

from app.domain.exports.context import ExportContext
from app.domain.exports.json_tasks import min_rows

SCALARS = frozenset({int, float, bool})
FIXED = ("annotation_id", "annotator", "created_at", "id", "lead_time", "updated_at")


class TabularWriter:
    media_type = "text/csv"

    def __init__(self, context: ExportContext, delimiter: str) -> None:
        self.columns = sorted(set(FIXED) | set(context.data_keys) | {c.name for c in context.controls})
        self.delimiter = delimiter
        self.special = re.compile(f'[{re.escape(delimiter)}"\r\n]')  # what makes a cell quoted
        self.extension = "csv" if delimiter == "," else "tsv"
        if delimiter != ",":
            self.media_type = "text/tab-separated-values"

    def start(self) -> bytes:
        return self._line(self.columns).encode()

    def write(self, task: dict[str, Any]) -> bytes:
        lines = [self._line([_cell(v) for v in map(row.get, self.columns)]) for row in min_rows(task)]
        return "".join(lines).encode()

    def finish(self) -> bytes:
        return b""

    def _line(self, cells: list[str]) -> str:
        """The cells joined, each quoted only where it must be: one with the delimiter, a quote or a
        line break in it. One look at the joined line tells most lines need no quotes, and the rest
        most often only for a delimiter: far cheaper than the csv module's look at every character."""
        d = self.delimiter
        line = d.join(cells)
        if '"' in line or "\n" in line or "\r" in line:
            special = self.special.search
            line = d.join([('"' + c.replace('"', '""') + '"') if special(c) else c for c in cells])
        elif line.count(d) != len(cells) - 1:
            line = d.join(['"' + c + '"' if d in c else c for c in cells])
        return line + "\n"


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
