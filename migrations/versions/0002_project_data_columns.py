"""project data columns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 03:06:06.502518
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.add_column("projects", sa.Column("data_columns", json, nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    op.drop_column('projects', 'data_columns')
