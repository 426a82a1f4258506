"""Export snapshots: Label Studio's asynchronous export, built by a job into files under the data dir.

A snapshot is the project's tasks, filtered and shaped by the options it was asked with, frozen into
one JSON file. Other formats are converted from that stored file, not by reading the database again:
the file is the snapshot, so its CSV lists exactly the tasks and annotations its JSON holds even after
the project changed, and a conversion costs the database nothing.
"""

from app.services.export_snapshots.builds import (
    ConversionBuild,
    SnapshotBuild,
    claim_conversion,
    claim_snapshot,
    discard_build,
    fail_conversion,
    fail_snapshot,
    finish_conversion,
    finish_snapshot,
    record_progress,
    remove_folder,
    renew_conversion,
    stale_builds,
    write_conversion,
    write_snapshot,
)
from app.services.export_snapshots.options import SnapshotOptions, parse_options
from app.services.export_snapshots.requests import (
    Download,
    SnapshotView,
    convert_snapshot,
    create_snapshot,
    delete_snapshot,
    get_snapshot,
    list_snapshots,
    prepare_download,
)

__all__ = [
    "ConversionBuild",
    "Download",
    "SnapshotBuild",
    "SnapshotOptions",
    "SnapshotView",
    "claim_conversion",
    "claim_snapshot",
    "convert_snapshot",
    "create_snapshot",
    "delete_snapshot",
    "discard_build",
    "fail_conversion",
    "fail_snapshot",
    "finish_conversion",
    "finish_snapshot",
    "get_snapshot",
    "list_snapshots",
    "parse_options",
    "prepare_download",
    "record_progress",
    "remove_folder",
    "renew_conversion",
    "stale_builds",
    "write_conversion",
    "write_snapshot",
]
