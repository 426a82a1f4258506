"""the agreement metric is 'default', the one there is: projects that stored another name (accepted
and ignored until now) are set to it, so their settings load under the stricter rule

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 06:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG = """UPDATE projects SET settings = jsonb_set(settings, '{quality,agreement,metric}', '"default"')
WHERE settings #> '{quality,agreement}' IS NOT NULL
  AND settings #>> '{quality,agreement,metric}' IS DISTINCT FROM 'default'"""
SQLITE = """UPDATE projects SET settings = json_set(settings, '$.quality.agreement.metric', 'default')
WHERE json_type(settings, '$.quality.agreement') = 'object'
  AND coalesce(json_extract(settings, '$.quality.agreement.metric'), '') != 'default'"""


def upgrade() -> None:
    op.execute(PG if op.get_bind().dialect.name == "postgresql" else SQLITE)


def downgrade() -> None:
    """Nothing to undo: 'default' was always allowed."""
