"""tasks keep the annotators added for low agreement; members keep their ground-truth evaluation

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("extra_overlap", sa.Integer(), server_default="0", nullable=False))
    op.add_column("project_members", sa.Column("evaluation_score", sa.Float(), nullable=True))
    op.add_column(
        "project_members", sa.Column("evaluation_tasks", sa.Integer(), server_default="0", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("project_members", "evaluation_tasks")
    op.drop_column("project_members", "evaluation_score")
    op.drop_column("tasks", "extra_overlap")
