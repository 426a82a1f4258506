"""Planner statistics and visibility maps after bulk writes.

PostgreSQL plans from table statistics that autovacuum refreshes only now and then (never, where
it is turned off). Right after a large import they still describe a much smaller table, and the
planner scans where it should use an index (an export batch reading its annotations by task id
then costs a full scan each). Until a VACUUM marks the new pages all-visible, an index-only scan
(the task list skipping to a far page by ids alone) still reads every row it passes. So a table
whose file grew by more than a fifth since it was last vacuumed or analyzed is vacuumed and
analyzed once the write commits.
"""

from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.services.jobs import enqueue

GROWTH = 1.2  # a fifth more pages than when last vacuumed or analyzed
TABLES = frozenset({"tasks", "annotations", "predictions"})
STALE = text(
    "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname = ANY(:names) AND (reltuples < 0"
    f" OR pg_relation_size(oid) > {GROWTH} * relpages * current_setting('block_size')::int)"
)


async def _outgrown(session: AsyncSession, names: list[str]) -> list[str]:
    """The tables whose file grew by more than a fifth since they were last vacuumed or analyzed:
    the file includes earlier writes and any uncommitted one, so small writes add up."""
    return sorted(await session.scalars(STALE, {"names": names}))


async def note_bulk_write(session: AsyncSession, written: Mapping[str, int]) -> None:
    """Ask for a VACUUM ANALYZE of the tables this write outgrew (PostgreSQL; SQLite plans without)."""
    if (await session.connection()).dialect.name != "postgresql":
        return
    names = [name for name, count in written.items() if count and name in TABLES]
    if names and (stale := await _outgrown(session, names)):
        enqueue(session, "analyze_tables", tables=stale)


async def vacuum_analyze(session: AsyncSession, tables: list[str]) -> None:
    """VACUUM ANALYZE the tables still outgrown, on a session that has not begun a transaction:
    VACUUM runs outside one. Writes in quick succession each ask; the first VACUUM catches up for
    all of them, and one running meanwhile holds the table, so the others skip it."""
    connection = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    if stale := await _outgrown(session, sorted(set(tables) & TABLES)):
        await connection.execute(text(f"VACUUM (ANALYZE, SKIP_LOCKED) {', '.join(stale)}"))
