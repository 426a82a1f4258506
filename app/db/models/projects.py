"""Projects and their members."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utcnow


class Project(Base):
    """A project; every setting but the General ones lives in `settings` (ProjectSettings as JSON)."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    workspace_id: Mapped[int | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    color: Mapped[str] = mapped_column(String(20), default="#FFFFFF")
    label_config: Mapped[str] = mapped_column(Text, default="<View></View>")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    data_columns: Mapped[list[Any]] = mapped_column(default=list)
    random_seed: Mapped[int] = mapped_column(BigInteger, default=0)
    task_count: Mapped[int] = mapped_column(Integer, default=0)
    next_inner_id: Mapped[int] = mapped_column(BigInteger, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    pinned_at: Mapped[datetime | None]


class ProjectMember(Base):
    """Membership in one project, with an optional project-level role and a pause."""

    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str | None] = mapped_column(String(20))
    is_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    pause_reason: Mapped[str] = mapped_column(Text, default="")
    pause_kind: Mapped[str | None] = mapped_column(String(20))
    paused_at: Mapped[datetime | None]
    # agreement with ground truth (0-1) over `evaluation_tasks` ground-truth tasks the user submitted
    evaluation_score: Mapped[float | None] = mapped_column(Float)
    evaluation_tasks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
