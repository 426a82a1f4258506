"""task_buckets also count each bucket's labeled tasks and their annotations and predictions, so the
labeled and unlabeled task lists (the SDK's get_labeled_tasks and get_unlabeled_tasks) are counted
and paged like the whole project's; each bucket is kept in shards, as project_totals is, because
submits now write it

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 22:00:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUCKET = 4096  # ids per bucket, as app.db.models.tasks.TASK_BUCKET
# rows per bucket, keyed as project_totals' shards are (id % 16): a submit that labels a task waits
# on its bucket's shard only where it already waits on the project's totals
SHARDS = 16
LABELED = ("labeled", "labeled_annotations", "labeled_predictions")
TRIGGERS = ("tasks_buckets_insert", "tasks_buckets_update", "tasks_buckets_delete")


def _counts(row: str) -> dict[str, str]:
    """Each counter's contribution of one task row."""
    return {
        "tasks": "1",
        "labeled": f"CASE WHEN {row}.is_labeled THEN 1 ELSE 0 END",
        "labeled_annotations": f"CASE WHEN {row}.is_labeled THEN {row}.total_annotations ELSE 0 END",
        "labeled_predictions": f"CASE WHEN {row}.is_labeled THEN {row}.total_predictions ELSE 0 END",
    }


def _key(row: str) -> str:
    """A task row's bucket and shard."""
    return f"{row}.id / {BUCKET}, {row}.id % {SHARDS}"


def _add(columns: Sequence[str]) -> str:
    """An upsert's SET: each counter plus the inserted row's."""
    return ", ".join(f"{c} = task_buckets.{c} + excluded.{c}" for c in columns)


NEW, OLD = _counts("n"), _counts("o")
CHANGED = [f"sum({NEW[c]} - {OLD[c]})" for c in LABELED]

# PostgreSQL: statement-level triggers read the changed rows as transition tables, so a COPY of a
# million tasks adds one grouped upsert. Rows are upserted in key order, so concurrent writers into
# one project wait rather than deadlock. Only a labeled task's update can change a bucket.
PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION quorum_task_buckets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_buckets (project_id, bucket, shard, {", ".join(NEW)})
        SELECT n.project_id, {_key("n")}, {", ".join(f"sum({v})" for v in NEW.values())}
        FROM new_rows n GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (project_id, bucket, shard) DO UPDATE SET {_add(NEW)};
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO task_buckets (project_id, bucket, shard, tasks, {", ".join(LABELED)})
        SELECT n.project_id, {_key("n")}, 0, {", ".join(CHANGED)}
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.is_labeled OR o.is_labeled
        GROUP BY 1, 2, 3 HAVING {" OR ".join(f"{c} <> 0" for c in CHANGED)} ORDER BY 1, 2, 3
        ON CONFLICT (project_id, bucket, shard) DO UPDATE SET {_add(LABELED)};
    ELSE
        UPDATE task_buckets b SET {", ".join(f"{c} = b.{c} - d.{c}" for c in OLD)}
        FROM (SELECT o.project_id, o.id / {BUCKET} AS bucket, o.id % {SHARDS} AS shard,
                     {", ".join(f"sum({v}) AS {c}" for c, v in OLD.items())}
              FROM old_rows o GROUP BY 1, 2, 3) d
        WHERE b.project_id = d.project_id AND b.bucket = d.bucket AND b.shard = d.shard;
    END IF;
    RETURN NULL;
END $$
"""
PG_TRIGGERS = (
    "CREATE TRIGGER tasks_buckets_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION quorum_task_buckets()",
    "CREATE TRIGGER tasks_buckets_update AFTER UPDATE ON tasks "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION quorum_task_buckets()",
    "CREATE TRIGGER tasks_buckets_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION quorum_task_buckets()",
)


def _sqlite_triggers() -> tuple[str, ...]:
    """SQLite: row triggers, one statement each."""
    new, old = _counts("NEW"), _counts("OLD")
    where = f"WHERE project_id = {{0}}.project_id AND bucket = {{0}}.id / {BUCKET} AND shard = {{0}}.id % {SHARDS}"
    return (
        "CREATE TRIGGER tasks_buckets_insert AFTER INSERT ON tasks BEGIN "
        f"INSERT INTO task_buckets (project_id, bucket, shard, {', '.join(new)}) "
        f"VALUES (NEW.project_id, NEW.id / {BUCKET}, NEW.id % {SHARDS}, {', '.join(new.values())}) "
        f"ON CONFLICT (project_id, bucket, shard) DO UPDATE SET {_add(new)}; END",
        "CREATE TRIGGER tasks_buckets_update AFTER UPDATE OF is_labeled, total_annotations, "
        "total_predictions ON tasks WHEN NEW.is_labeled OR OLD.is_labeled BEGIN "
        f"UPDATE task_buckets SET {', '.join(f'{c} = {c} + ({new[c]}) - ({old[c]})' for c in LABELED)} "
        f"{where.format('NEW')}; END",
        "CREATE TRIGGER tasks_buckets_delete AFTER DELETE ON tasks BEGIN "
        f"UPDATE task_buckets SET {', '.join(f'{c} = {c} - ({v})' for c, v in old.items())} "
        f"{where.format('OLD')}; END",
    )


def _drop() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON tasks" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION quorum_task_buckets()")
    op.drop_table("task_buckets")


def upgrade() -> None:
    _drop()
    op.create_table(
        "task_buckets",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("tasks", sa.BigInteger(), nullable=False),
        *(sa.Column(c, sa.BigInteger(), nullable=False, server_default="0") for c in LABELED),
        sa.PrimaryKeyConstraint("project_id", "bucket", "shard", name=op.f("pk_task_buckets")),
    )
    counts = _counts("tasks")
    op.execute(
        f"INSERT INTO task_buckets (project_id, bucket, shard, {', '.join(counts)}) "
        f"SELECT project_id, {_key('tasks')}, {', '.join(f'sum({v})' for v in counts.values())} FROM tasks GROUP BY 1, 2, 3"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for trigger in PG_TRIGGERS:
            op.execute(trigger)
    else:
        for trigger in _sqlite_triggers():
            op.execute(trigger)


def downgrade() -> None:
    """Back to 0009's table and triggers, rebuilt as that revision builds them."""
    _drop()
    path = Path(__file__).with_name("0009_task_buckets.py")
    spec = importlib.util.spec_from_file_location("revision_0009", path)
    assert spec is not None and spec.loader is not None
    revision_0009 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision_0009)
    revision_0009.upgrade()
