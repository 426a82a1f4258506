"""task_buckets: how many of a project's tasks fall in each run of ids, kept by triggers, so a page
of the id-ordered task list is found without stepping over every id before it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUCKET = 4096  # ids per bucket, as app.db.models.tasks.TASK_BUCKET
TRIGGERS = ("tasks_buckets_insert", "tasks_buckets_delete")

# PostgreSQL: statement-level triggers read the changed rows as transition tables, so a COPY of a
# million tasks adds one grouped upsert. Tasks never change project or id, so updates need nothing.
# Buckets are upserted in order, so concurrent imports into one project wait rather than deadlock.
PG_FUNCTION = f"""
CREATE FUNCTION quorum_task_buckets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_buckets (project_id, bucket, tasks)
        SELECT project_id, id / {BUCKET}, count(*) FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (project_id, bucket) DO UPDATE SET tasks = task_buckets.tasks + excluded.tasks;
    ELSE
        UPDATE task_buckets b SET tasks = b.tasks - d.tasks
        FROM (SELECT project_id, id / {BUCKET} AS bucket, count(*) AS tasks FROM old_rows GROUP BY 1, 2) d
        WHERE b.project_id = d.project_id AND b.bucket = d.bucket;
    END IF;
    RETURN NULL;
END $$
"""
PG_TRIGGERS = (
    "CREATE TRIGGER tasks_buckets_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION quorum_task_buckets()",
    "CREATE TRIGGER tasks_buckets_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION quorum_task_buckets()",
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER tasks_buckets_insert AFTER INSERT ON tasks BEGIN "
    f"INSERT INTO task_buckets (project_id, bucket, tasks) VALUES (NEW.project_id, NEW.id / {BUCKET}, 1) "
    "ON CONFLICT (project_id, bucket) DO UPDATE SET tasks = tasks + 1; END",
    "CREATE TRIGGER tasks_buckets_delete AFTER DELETE ON tasks BEGIN "
    "UPDATE task_buckets SET tasks = tasks - 1 "
    f"WHERE project_id = OLD.project_id AND bucket = OLD.id / {BUCKET}; END",
)


def upgrade() -> None:
    op.create_table(
        "task_buckets",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "bucket", name=op.f("pk_task_buckets")),
    )
    op.execute(
        "INSERT INTO task_buckets (project_id, bucket, tasks) "
        f"SELECT project_id, id / {BUCKET}, count(*) FROM tasks GROUP BY 1, 2"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for trigger in PG_TRIGGERS:
            op.execute(trigger)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON tasks" if postgresql else f"DROP TRIGGER {name}")
    if postgresql:
        op.execute("DROP FUNCTION quorum_task_buckets()")
    op.drop_table("task_buckets")
