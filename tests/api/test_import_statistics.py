"""After a large import the planner's statistics describe the new table, and its visibility map
lets index-only scans skip it (PostgreSQL)."""

import pytest
from sqlalchemy import text

from tests.api.test_imports import project_id

CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]


async def analyzed(engine, table: str) -> tuple[float, bool, bool]:
    """Estimated rows, whether analyzed, whether every page is marked all-visible."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT c.reltuples, s.last_analyze IS NOT NULL, c.relallvisible = c.relpages"
                    " FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = :name"
                ),
                {"name": table},
            )
        ).one()
    return float(row[0]), bool(row[1]), bool(row[2])


async def test_an_import_that_outgrows_the_statistics_is_vacuumed_and_analyzed(team, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans without table statistics")
    pid = await project_id(team)
    body = [{"data": {"review_text": f"t{i}"}, "annotations": [{"result": CHOICE}]} for i in range(400)]
    assert (
        await team.client.post(f"/api/projects/{pid}/import", json=body, headers=team.headers())
    ).status_code == 201
    await team.client.app.state.queue.drain()
    for table in ("tasks", "annotations"):
        tuples, done, visible = await analyzed(engine, table)
        assert done, table
        assert visible, table
        assert tuples == 400, (table, tuples)
    small = [{"review_text": "one more"}]
    await team.client.post(f"/api/projects/{pid}/import", json=small, headers=team.headers())
    await team.client.app.state.queue.drain()
    assert (await analyzed(engine, "tasks"))[0] == 400  # a small write keeps the statistics


async def test_small_imports_add_up_to_an_analyze(team, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans without table statistics")
    pid = await project_id(team)
    for batch in range(4):  # 400 tasks, then three imports each too small to count alone
        body = [{"review_text": f"t{batch}-{i}"} for i in range(50 if batch else 400)]
        await team.client.post(f"/api/projects/{pid}/import", json=body, headers=team.headers())
        await team.client.app.state.queue.drain()
    assert (await analyzed(engine, "tasks"))[0] > 400


async def test_the_analyze_after_an_import_skips_the_json_columns(team, engine):
    """No query compares whole JSON values, and their statistics were most of the ANALYZE's cost."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans without table statistics")
    pid = await project_id(team)
    body = [{"data": {"review_text": f"t{i}"}, "annotations": [{"result": CHOICE}]} for i in range(400)]
    await team.client.post(f"/api/projects/{pid}/import", json=body, headers=team.headers())
    await team.client.app.state.queue.drain()
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT tablename, attname FROM pg_stats WHERE tablename IN ('tasks', 'annotations')")
        )
        columns = {(table, column) for table, column in rows}
    assert {("tasks", "project_id"), ("annotations", "task_id")} <= columns
    assert not columns & {("tasks", "data"), ("tasks", "meta"), ("annotations", "result")}
