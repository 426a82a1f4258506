"""Jobs that keep the database's planner statistics current."""

from typing import Any

from app.services import statistics
from app.workers.unit import job_unit


async def analyze_tables(ctx: dict[str, Any], tables: list[str]) -> None:
    """ANALYZE tables a bulk write outgrew (idempotent)."""
    async with job_unit(ctx) as session:
        await statistics.analyze(session, tables)
