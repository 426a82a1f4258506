"""Export writers: pure functions from task dicts (Label Studio's JSON export shape) to bytes.

Each writer is incremental (`start`, `write(task)`, `finish`) so the service can stream a project
of any size with flat memory.
"""

from app.domain.exports.context import ExportContext, export_context
from app.domain.exports.formats import ExportWriter, export_formats, writer_for

__all__ = ["ExportContext", "ExportWriter", "export_context", "export_formats", "writer_for"]
