"""Jobs about whole projects."""

from typing import Any

from app.services import projects
from app.workers.unit import unit_of_work


async def recount_project(ctx: dict[str, Any], project_id: int) -> int:
    """Reset the project's maintained task counter from the tasks table (idempotent)."""
    async with unit_of_work(ctx) as session:
        return await projects.recount_project(session, project_id)
