"""export snapshots and formats record which runner holds their lease

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("export_snapshots", "export_formats")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("runner", sa.String(length=32), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "runner")
