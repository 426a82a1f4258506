"""Export writers: pure functions from task dicts (Label Studio's JSON export shape) to bytes.

Each writer is incremental (`start`, `write_many(tasks)` a batch at a time, `finish`) so the service
can stream a project of any size with flat memory.
"""

from app.domain.exports.context import ExportContext, export_context
from app.domain.exports.formats import export_formats, writer_for
from app.domain.exports.writer import ExportWriter

__all__ = ["ExportContext", "ExportWriter", "export_context", "export_formats", "writer_for"]
