"""per-project sums of the tasks' annotation and prediction counters, kept by triggers

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 13:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHARDS = 16  # rows per project, so concurrent submits in one project rarely wait on the same row

# PostgreSQL: statement-level triggers read the changed rows as transition tables, so a COPY of a
# million tasks adds one grouped upsert, not a million.
PG_FUNCTION = f"""
CREATE FUNCTION quorum_project_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO project_totals (project_id, shard, annotations, predictions)
        SELECT project_id, id % {SHARDS}, sum(total_annotations), sum(total_predictions)
        FROM new_rows GROUP BY 1, 2
        ON CONFLICT (project_id, shard) DO UPDATE
        SET annotations = project_totals.annotations + excluded.annotations,
            predictions = project_totals.predictions + excluded.predictions;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO project_totals (project_id, shard, annotations, predictions)
        SELECT n.project_id, n.id % {SHARDS},
               sum(n.total_annotations - o.total_annotations), sum(n.total_predictions - o.total_predictions)
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.total_annotations <> o.total_annotations OR n.total_predictions <> o.total_predictions
        GROUP BY 1, 2
        ON CONFLICT (project_id, shard) DO UPDATE
        SET annotations = project_totals.annotations + excluded.annotations,
            predictions = project_totals.predictions + excluded.predictions;
    ELSE
        UPDATE project_totals t
        SET annotations = t.annotations - d.annotations, predictions = t.predictions - d.predictions
        FROM (SELECT project_id, id % {SHARDS} AS shard, sum(total_annotations) AS annotations,
                     sum(total_predictions) AS predictions
              FROM old_rows GROUP BY 1, 2) d
        WHERE t.project_id = d.project_id AND t.shard = d.shard;
    END IF;
    RETURN NULL;
END $$
"""
PG_TRIGGERS = (
    "CREATE TRIGGER tasks_totals_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION quorum_project_totals()",
    "CREATE TRIGGER tasks_totals_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quorum_project_totals()",
    "CREATE TRIGGER tasks_totals_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION quorum_project_totals()",
)
SQLITE_UPSERT = f"""
    INSERT INTO project_totals (project_id, shard, annotations, predictions)
    VALUES (NEW.project_id, NEW.id % {SHARDS}, {{annotations}}, {{predictions}})
    ON CONFLICT (project_id, shard) DO UPDATE
    SET annotations = annotations + excluded.annotations, predictions = predictions + excluded.predictions;
"""
SQLITE_TRIGGERS = (
    "CREATE TRIGGER tasks_totals_insert AFTER INSERT ON tasks BEGIN"
    + SQLITE_UPSERT.format(annotations="NEW.total_annotations", predictions="NEW.total_predictions")
    + "END",
    "CREATE TRIGGER tasks_totals_update AFTER UPDATE OF total_annotations, total_predictions ON tasks BEGIN"
    + SQLITE_UPSERT.format(
        annotations="NEW.total_annotations - OLD.total_annotations",
        predictions="NEW.total_predictions - OLD.total_predictions",
    )
    + "END",
    "CREATE TRIGGER tasks_totals_delete AFTER DELETE ON tasks BEGIN "
    "UPDATE project_totals SET annotations = annotations - OLD.total_annotations, "
    "predictions = predictions - OLD.total_predictions "
    f"WHERE project_id = OLD.project_id AND shard = OLD.id % {SHARDS}; END",
)


def upgrade() -> None:
    op.create_table(
        "project_totals",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("annotations", sa.BigInteger(), nullable=False),
        sa.Column("predictions", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "shard", name=op.f("pk_project_totals")),
    )
    op.execute(
        "INSERT INTO project_totals (project_id, shard, annotations, predictions) "
        f"SELECT project_id, id % {SHARDS}, sum(total_annotations), sum(total_predictions) "
        "FROM tasks GROUP BY 1, 2"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for trigger in PG_TRIGGERS:
            op.execute(trigger)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    for name in ("tasks_totals_insert", "tasks_totals_update", "tasks_totals_delete"):
        op.execute(f"DROP TRIGGER {name} ON tasks" if op.get_bind().dialect.name == "postgresql" else f"DROP TRIGGER {name}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION quorum_project_totals()")
    op.drop_table("project_totals")
