"""Annotations, drafts, predictions and reviews."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utcnow

TaskRef = BigInteger().with_variant(Integer, "sqlite")


class Annotation(Base):
    """A submitted annotation; `was_cancelled` marks a skip, as in Label Studio."""

    __tablename__ = "annotations"
    __table_args__ = (
        Index("ix_annotations_task_id", "task_id"),
        Index(
            "ix_annotations_project_id_completed_by_id_task_id", "project_id", "completed_by_id", "task_id"
        ),
        Index(
            "ix_annotations_project_id_ground_truth",
            "project_id",
            postgresql_where=text("ground_truth"),
            sqlite_where=text("ground_truth"),
        ),
        Index(
            "uq_annotations_task_id_ground_truth",
            "task_id",
            unique=True,
            postgresql_where=text("ground_truth"),
            sqlite_where=text("ground_truth"),
        ),
        Index(
            "uq_annotations_task_id_completed_by_id_client_key",
            "task_id",
            "completed_by_id",
            "client_key",
            unique=True,
            postgresql_where=text("client_key IS NOT NULL"),
            sqlite_where=text("client_key IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    task_id: Mapped[int] = mapped_column(TaskRef, ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    result: Mapped[list[Any]] = mapped_column(default=list)
    was_cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    ground_truth: Mapped[bool] = mapped_column(Boolean, default=False)
    lead_time: Mapped[float | None] = mapped_column(Float)
    prediction: Mapped[dict[str, Any]] = mapped_column(default=dict)
    parent_prediction_id: Mapped[int | None] = mapped_column(
        ForeignKey("predictions.id", ondelete="SET NULL")
    )
    parent_annotation_id: Mapped[int | None] = mapped_column(
        ForeignKey("annotations.id", ondelete="SET NULL")
    )
    last_action: Mapped[str | None] = mapped_column(String(40))
    unique_id: Mapped[str | None] = mapped_column(String(80))
    import_id: Mapped[int | None] = mapped_column(BigInteger)
    bulk_created: Mapped[bool] = mapped_column(Boolean, default=False)
    client_key: Mapped[str | None] = mapped_column(String(100))
    draft_created_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Draft(Base):
    """Unsubmitted work of one user on one task; never counts as an annotation."""

    __tablename__ = "drafts"
    __table_args__ = (
        Index("ix_drafts_task_id_user_id", "task_id", "user_id"),
        Index("ix_drafts_project_id_user_id", "project_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(TaskRef, ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    annotation_id: Mapped[int | None] = mapped_column(ForeignKey("annotations.id", ondelete="CASCADE"))
    result: Mapped[list[Any]] = mapped_column(default=list)
    lead_time: Mapped[float | None] = mapped_column(Float)
    was_postponed: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Prediction(Base):
    """A model's proposed result for a task."""

    __tablename__ = "predictions"
    __table_args__ = (
        Index("ix_predictions_task_id", "task_id"),
        Index("ix_predictions_project_id_model_version_score", "project_id", "model_version", "score"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    task_id: Mapped[int] = mapped_column(TaskRef, ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    result: Mapped[list[Any]] = mapped_column(default=list)
    score: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(String(200), default="undefined")
    cluster: Mapped[int | None] = mapped_column(Integer)
    neighbors: Mapped[list[Any] | None]
    mislabeling: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Review(Base):
    """A reviewer's decision on an annotation."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_annotation_id", "annotation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    annotation_id: Mapped[int] = mapped_column(TaskRef, ForeignKey("annotations.id", ondelete="CASCADE"))
    task_id: Mapped[int] = mapped_column(TaskRef, ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    accepted: Mapped[bool] = mapped_column(Boolean)
    result: Mapped[list[Any] | None]
    comment: Mapped[str] = mapped_column(Text, default="")
    reject_action: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
