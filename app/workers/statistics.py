"""Jobs that keep the database's planner statistics and visibility maps current."""

from typing import Any

from app.services import statistics
from app.workers.unit import job_unit


async def analyze_tables(ctx: dict[str, Any], tables: list[str]) -> None:
    """VACUUM ANALYZE tables a bulk write outgrew (idempotent); the job's fresh session runs it
    outside a transaction."""
    async with job_unit(ctx) as session:
        await statistics.vacuum_analyze(session, tables)
