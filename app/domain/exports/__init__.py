"""Export writers: pure functions from task dicts (Label Studio's JSON export shape) to bytes.

Each writer is incremental (`start`, `write(task)`, `finish`) so the service can stream a project
of any size with flat memory; `write_batch` writes a batch of tasks the fastest way the writer has.
"""

from app.domain.exports.context import ExportContext, export_context
from app.domain.exports.formats import ExportWriter, export_formats, write_batch, writer_for

__all__ = ["ExportContext", "ExportWriter", "export_context", "export_formats", "write_batch", "writer_for"]
