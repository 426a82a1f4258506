"""arq's WorkerSettings for `quorum worker`, and the registry of job functions."""

from typing import Any, ClassVar

from arq import cron

from app.config import Settings
from app.db.engine import make_engine, make_sessionmaker
from app.workers.export_snapshots import (
    reap_export_snapshots,
    remove_export_files,
    run_export_conversion,
    run_export_snapshot,
)
from app.workers.imports import reap_imports, run_import
from app.workers.projects import recount_project
from app.workers.queue import ArqQueue, JobFunction
from app.workers.statistics import analyze_tables

FUNCTIONS: dict[str, JobFunction] = {
    "recount_project": recount_project,
    "run_import": run_import,
    "reap_imports": reap_imports,
    "run_export_snapshot": run_export_snapshot,
    "run_export_conversion": run_export_conversion,
    "reap_export_snapshots": reap_export_snapshots,
    "remove_export_files": remove_export_files,
    "analyze_tables": analyze_tables,
}


async def startup(ctx: dict[str, Any]) -> None:
    """Give each job a session factory and a queue, built when the worker starts."""
    settings: Settings = ctx.get("settings") or Settings()
    ctx["engine"] = make_engine(settings.resolved_database_url)
    ctx["sessionmaker"] = make_sessionmaker(ctx["engine"])
    ctx["queue"] = ArqQueue(ctx["redis"])
    await reap_imports(ctx)
    await reap_export_snapshots(ctx)


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["engine"].dispose()


class WorkerSettings:
    """Used as `run_worker(WorkerSettings, redis_settings=...)`; Redis comes from QUORUM_REDIS_URL."""

    functions: ClassVar[list[JobFunction]] = list(FUNCTIONS.values())
    on_startup = startup
    on_shutdown = shutdown
    cron_jobs: ClassVar[list[Any]] = [
        cron(reap_imports, second=set(range(0, 60, 5)), run_at_startup=False),
        cron(reap_export_snapshots, second=set(range(0, 60, 5)), run_at_startup=False),
    ]
    max_tries = 5
