"""PostgreSQL keeps no planner statistics of the JSON columns of tasks, annotations and predictions:
no query compares a whole JSON value, so the planner never reads them, and computing them was most
of the cost of the ANALYZE that follows each large import

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 07:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_COLUMNS = {
    "tasks": ("data", "meta"),
    "annotations": ("result", "prediction"),
    "predictions": ("result", "neighbors"),
}


def _set_statistics(target: int) -> None:
    """`target` 0: ANALYZE skips the column; -1: the server's default."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in JSON_COLUMNS.items():
        settings = ", ".join(f"ALTER COLUMN {c} SET STATISTICS {target}" for c in columns)
        op.execute(f"ALTER TABLE {table} {settings}")


def upgrade() -> None:
    _set_statistics(0)


def downgrade() -> None:
    _set_statistics(-1)
