"""Tasks, their manual assignments and their reservations."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utcnow


class Task(Base):
    """One item to label; counters are maintained by the services so lists never count rows."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("project_id", "inner_id"),
        Index("ix_tasks_project_id_id", "project_id", "id"),
        Index("ix_tasks_project_id_is_labeled_id", "project_id", "is_labeled", "id"),
        Index("ix_tasks_project_id_is_labeled_random_key_id", "project_id", "is_labeled", "random_key", "id"),
        # the SDK's completed_at ordering and the "labeled" filter ML backends train from
        Index("ix_tasks_project_id_completed_at_id", "project_id", "completed_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    inner_id: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]]
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    allow_skip: Mapped[bool] = mapped_column(Boolean, default=True)
    overlap: Mapped[int] = mapped_column(Integer, default=1)
    # annotators added by the low agreement strategy, kept on top of the overlap settings give
    extra_overlap: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    is_labeled: Mapped[bool] = mapped_column(Boolean, default=False)
    total_annotations: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_annotations: Mapped[int] = mapped_column(Integer, default=0)
    total_predictions: Mapped[int] = mapped_column(Integer, default=0)
    random_key: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    completed_at: Mapped[datetime | None]
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("project_imports.id", ondelete="SET NULL"), index=True
    )


class TaskAssignment(Base):
    """A manager's assignment of a user to a task, as annotator (AN) or reviewer (RE)."""

    __tablename__ = "task_assignments"

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(2), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_task_assignments_project_id_user_id_kind", "project_id", "user_id", "kind"),)


class TaskReservation(Base):
    """A user's hold on a task slot; live while `expires_at` is in the future."""

    __tablename__ = "task_reservations"
    __table_args__ = (
        UniqueConstraint("task_id", "user_id"),
        # one reservation per annotator per project: the stream's claim upserts on it
        Index("ix_task_reservations_project_id_user_id", "project_id", "user_id", unique=True),
        Index("ix_task_reservations_task_id_expires_at", "task_id", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProjectTotals(Base):
    """Sums of a project's task counters, kept by triggers on `tasks` (migration 0008) in a few
    shards per project, so project counters and the task list read them instead of summing every
    task, and concurrent submits rarely wait on the same row. No foreign key: deleting the project
    deletes them."""

    __tablename__ = "project_totals"

    project_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    tasks: Mapped[int] = mapped_column(BigInteger, server_default="0")
    finished: Mapped[int] = mapped_column(BigInteger, server_default="0")  # labeled tasks
    annotations: Mapped[int] = mapped_column(BigInteger)
    skipped: Mapped[int] = mapped_column(BigInteger, server_default="0")  # cancelled annotations
    predictions: Mapped[int] = mapped_column(BigInteger)
    annotated: Mapped[int] = mapped_column(BigInteger, server_default="0")  # tasks with an annotation


TASK_BUCKET = 4096  # ids per bucket; migration 0012's triggers divide by the same number


class TaskBucket(Base):
    """How many of a project's tasks have ids in one run of `TASK_BUCKET` ids (bucket = id //
    TASK_BUCKET), and how many of them are labeled, kept by triggers on `tasks` (migration 0012) in
    shards as `ProjectTotals` is, since submits write them: summing a project's few hundred buckets
    finds where its Nth task (or Nth labeled or unlabeled task) lies, so a page of the id-ordered list
    skips at most one bucket's ids. No foreign key: deleting the project deletes them."""

    __tablename__ = "task_buckets"

    project_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    tasks: Mapped[int] = mapped_column(BigInteger)
    labeled: Mapped[int] = mapped_column(BigInteger, server_default="0")
    # the labeled tasks' total_annotations and total_predictions: the labeled list's sums
    labeled_annotations: Mapped[int] = mapped_column(BigInteger, server_default="0")
    labeled_predictions: Mapped[int] = mapped_column(BigInteger, server_default="0")
