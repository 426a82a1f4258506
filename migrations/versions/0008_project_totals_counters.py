"""project_totals also keeps the task, finished, skipped and annotated-task counts, and ground-truth
annotations are found by project through a partial index

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHARDS = 16
COUNTERS = ("tasks", "finished", "annotations", "skipped", "predictions", "annotated")
BEFORE = ("annotations", "predictions")  # what 0006 kept
NEW = tuple(c for c in COUNTERS if c not in BEFORE)
TRIGGERS = ("tasks_totals_insert", "tasks_totals_update", "tasks_totals_delete")


def _value(counter: str, row: str) -> str:
    """A counter's contribution of one task row."""
    return {
        "tasks": "1",
        "finished": f"CASE WHEN {row}.is_labeled THEN 1 ELSE 0 END",
        "annotations": f"{row}.total_annotations",
        "skipped": f"{row}.cancelled_annotations",
        "predictions": f"{row}.total_predictions",
        "annotated": f"CASE WHEN {row}.total_annotations > 0 THEN 1 ELSE 0 END",
    }[counter]


def _watched(counters: tuple[str, ...]) -> list[str]:
    """The task columns the counters read."""
    columns = {
        "finished": "is_labeled",
        "annotations": "total_annotations",
        "skipped": "cancelled_annotations",
    }
    columns |= {"predictions": "total_predictions", "annotated": "total_annotations"}
    return sorted({columns[c] for c in counters if c in columns})


def _pg_function(counters: tuple[str, ...]) -> str:
    """PostgreSQL: one grouped upsert per statement, from the transition tables."""
    names = ", ".join(counters)
    inserted = ", ".join(f"sum({_value(c, 'n')})" for c in counters)
    changed = ", ".join(f"sum({_value(c, 'n')} - {_value(c, 'o')})" for c in counters)
    deleted = ", ".join(f"sum({_value(c, 'o')}) AS {c}" for c in counters)
    add = ", ".join(f"{c} = project_totals.{c} + excluded.{c}" for c in counters)
    return f"""
CREATE OR REPLACE FUNCTION quorum_project_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO project_totals (project_id, shard, {names})
        SELECT n.project_id, n.id % {SHARDS}, {inserted}
        FROM new_rows n GROUP BY 1, 2
        ON CONFLICT (project_id, shard) DO UPDATE SET {add};
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO project_totals (project_id, shard, {names})
        SELECT n.project_id, n.id % {SHARDS},
               {changed}
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE {" OR ".join(f"n.{c} <> o.{c}" for c in _watched(counters))}
        GROUP BY 1, 2
        ON CONFLICT (project_id, shard) DO UPDATE SET {add};
    ELSE
        UPDATE project_totals t SET {", ".join(f"{c} = t.{c} - d.{c}" for c in counters)}
        FROM (SELECT o.project_id, o.id % {SHARDS} AS shard,
                     {deleted}
              FROM old_rows o GROUP BY 1, 2) d
        WHERE t.project_id = d.project_id AND t.shard = d.shard;
    END IF;
    RETURN NULL;
END $$
"""


def _sqlite_triggers(counters: tuple[str, ...]) -> tuple[str, ...]:
    """SQLite: row triggers, each one upsert into the row's shard."""

    def upsert(values: list[str]) -> str:
        return (
            f"INSERT INTO project_totals (project_id, shard, {', '.join(counters)}) "
            f"VALUES (NEW.project_id, NEW.id % {SHARDS}, {', '.join(values)}) "
            "ON CONFLICT (project_id, shard) DO UPDATE SET "
            + ", ".join(f"{c} = {c} + excluded.{c}" for c in counters)
            + ";"
        )

    deltas = [f"({_value(c, 'NEW')}) - ({_value(c, 'OLD')})" for c in counters]
    return (
        f"CREATE TRIGGER tasks_totals_insert AFTER INSERT ON tasks BEGIN "
        f"{upsert([_value(c, 'NEW') for c in counters])} END",
        f"CREATE TRIGGER tasks_totals_update AFTER UPDATE OF {', '.join(_watched(counters))} ON tasks BEGIN "
        f"{upsert(deltas)} END",
        "CREATE TRIGGER tasks_totals_delete AFTER DELETE ON tasks BEGIN UPDATE project_totals SET "
        + ", ".join(f"{c} = {c} - ({_value(c, 'OLD')})" for c in counters)
        + f" WHERE project_id = OLD.project_id AND shard = OLD.id % {SHARDS}; END",
    )


def _keep(counters: tuple[str, ...]) -> None:
    """Recount every project's totals from its tasks, then keep them with triggers."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DELETE FROM project_totals")
    sums = ", ".join(f"sum({_value(c, 'tasks')})" for c in counters)
    op.execute(
        f"INSERT INTO project_totals (project_id, shard, {', '.join(counters)}) "
        f"SELECT project_id, id % {SHARDS}, {sums} "
        "FROM tasks GROUP BY 1, 2"
    )
    if sqlite:
        for trigger in _sqlite_triggers(counters):
            op.execute(trigger)
    else:
        op.execute(_pg_function(counters))


def upgrade() -> None:
    for column in NEW:
        op.add_column(
            "project_totals", sa.Column(column, sa.BigInteger(), nullable=False, server_default="0")
        )
    _keep(COUNTERS)
    op.create_index(
        "ix_annotations_project_id_ground_truth",
        "annotations",
        ["project_id"],
        postgresql_where=sa.text("ground_truth"),
        sqlite_where=sa.text("ground_truth"),
    )


def downgrade() -> None:
    op.drop_index("ix_annotations_project_id_ground_truth", "annotations")
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:  # SQLite rebuilds the table to drop a column, under the triggers' feet
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("project_totals") as batch:
        for column in NEW:
            batch.drop_column(column)
    _keep(BEFORE)
