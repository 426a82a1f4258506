"""Jobs about whole projects."""

from typing import Any

from app.services import projects
from app.workers.unit import job_unit


async def recount_project(ctx: dict[str, Any], project_id: int) -> int:
    """Reset the project's maintained task counter from the tasks table (idempotent)."""
    async with job_unit(ctx) as session:
        return await projects.recount_project(session, project_id)
