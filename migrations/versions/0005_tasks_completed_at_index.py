"""tasks ordered and filtered by completion time

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 13:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tasks_project_id_completed_at_id", "tasks", ["project_id", "completed_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_project_id_completed_at_id", table_name="tasks")
