"""Planner statistics after bulk writes.

PostgreSQL plans from table statistics that autovacuum refreshes only now and then (never, where
it is turned off). Right after a large import they still describe a much smaller table, and the
planner scans where it should use an index (an export batch reading its annotations by task id
then costs a full scan each). A table that grew by more than a fifth since its statistics were
taken is analyzed once the write commits.
"""

from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.services.jobs import enqueue

GROWTH = 0.2
TABLES = frozenset({"tasks", "annotations", "predictions"})


async def note_bulk_write(session: AsyncSession, written: Mapping[str, int]) -> None:
    """Ask for an ANALYZE of the tables this write outgrew (PostgreSQL; SQLite plans without)."""
    if (await session.connection()).dialect.name != "postgresql":
        return
    names = [name for name, count in written.items() if count and name in TABLES]
    if not names:
        return
    rows = await session.execute(
        text("SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relname = ANY(:names)"),
        {"names": names},
    )
    stale = sorted(name for name, tuples in rows if tuples < 0 or written[name] > GROWTH * tuples)
    if stale:
        enqueue(session, "analyze_tables", tables=stale)


async def analyze(session: AsyncSession, tables: list[str]) -> None:
    for table in sorted(set(tables) & TABLES):
        await session.execute(text(f"ANALYZE {table}"))
