"""task_reservations: one row per annotator per project, held by a unique index, so the stream's
claim is one upsert on it (rows two requests of one annotator left side by side are merged to the
newest)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM task_reservations WHERE id NOT IN "
        "(SELECT max(id) FROM task_reservations GROUP BY project_id, user_id)"
    )
    op.create_index(
        "ix_task_reservations_project_id_user_id", "task_reservations", ["project_id", "user_id"], unique=True
    )
    op.drop_index("ix_task_reservations_project_id_user_id_expires_at", table_name="task_reservations")


def downgrade() -> None:
    op.create_index(
        "ix_task_reservations_project_id_user_id_expires_at",
        "task_reservations",
        ["project_id", "user_id", "expires_at"],
    )
    op.drop_index("ix_task_reservations_project_id_user_id", table_name="task_reservations")
