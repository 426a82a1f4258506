"""tasks: the random order's index leads with is_labeled and ends with id, so the stream reads
open tasks only, in the order it serves them

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 02:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_tasks_project_id_is_labeled_random_key_id",
        "tasks",
        ["project_id", "is_labeled", "random_key", "id"],
    )
    op.drop_index("ix_tasks_project_id_random_key", table_name="tasks")


def downgrade() -> None:
    op.create_index("ix_tasks_project_id_random_key", "tasks", ["project_id", "random_key"])
    op.drop_index("ix_tasks_project_id_is_labeled_random_key_id", table_name="tasks")
