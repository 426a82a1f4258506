"""Export snapshots: a project's tasks frozen into a JSON file by a job, and that file in other formats.

Both are born `in_progress` with no lease (waiting for a runner), as Label Studio's are: the legacy
client polls only while the status is `in_progress`, so a `created` status would end its wait early.
Each claim draws a new `runner` token; only the runner holding it renews the lease or writes the
outcome, so a runner whose lease ran out and was taken over cannot overwrite its successor's build.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utcnow


class ExportSnapshot(Base):
    __tablename__ = "export_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(2048), default="")
    status: Mapped[str] = mapped_column(String(20), default="in_progress")
    error: Mapped[str] = mapped_column(Text, default="")
    task_filter_options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    annotation_filter_options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    serialization_options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    folder: Mapped[str] = mapped_column(Text)  # where its files live, the JSON and every format
    file_path: Mapped[str] = mapped_column(Text, default="")  # the JSON, once completed
    md5: Mapped[str] = mapped_column(String(32), default="")
    counters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tasks_done: Mapped[int] = mapped_column(Integer, default=0)
    tasks_total: Mapped[int | None] = mapped_column(Integer)
    lease_until: Mapped[datetime | None]
    runner: Mapped[str | None] = mapped_column(String(32))  # who holds the lease, drawn at each claim
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]


class ExportFormat(Base):
    """One snapshot converted to another format (Label Studio's `converted_formats`)."""

    __tablename__ = "export_formats"
    __table_args__ = (UniqueConstraint("snapshot_id", "export_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("export_snapshots.id", ondelete="CASCADE"))
    export_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="in_progress")
    traceback: Mapped[str] = mapped_column(Text, default="")
    file_path: Mapped[str] = mapped_column(Text, default="")  # in the snapshot's folder, once completed
    lease_until: Mapped[datetime | None]
    runner: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]
