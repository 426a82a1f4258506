"""Building export snapshots and their conversions; a build whose runner died is started again."""

import logging
from typing import Any

from app.domain.errors import Conflict, QuorumError
from app.services import export_snapshots
from app.workers.unit import job_unit

log = logging.getLogger("quorum.exports")


def _message(exc: Exception) -> str:
    """What a person reads on the failed snapshot."""
    if isinstance(exc, QuorumError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


async def run_export_snapshot(ctx: dict[str, Any], snapshot_id: int) -> str:
    """Build (or rebuild from scratch) one snapshot; a second runner on the same snapshot steps aside."""
    async with job_unit(ctx) as session:
        build = await export_snapshots.claim_snapshot(session, snapshot_id)
    if build is None:
        return "not claimed"

    async def progress(tasks_done: int) -> None:
        async with job_unit(ctx) as session:
            await export_snapshots.record_progress(session, snapshot_id, tasks_done)

    try:
        written = await export_snapshots.write_snapshot(ctx["sessionmaker"], build, progress)
    except Conflict:
        return "deleted or taken over"
    except Exception as exc:
        log.exception("export snapshot %s failed", snapshot_id)
        async with job_unit(ctx) as session:
            await export_snapshots.fail_snapshot(session, snapshot_id, _message(exc))
        return "failed"
    async with job_unit(ctx) as session:
        kept = await export_snapshots.finish_snapshot(session, snapshot_id, written)
    if not kept:
        export_snapshots.remove_file(written.path)
        return "deleted or taken over"
    return f"exported {written.counters.task_number} tasks"


async def run_export_conversion(ctx: dict[str, Any], format_id: int) -> str:
    """Convert a completed snapshot's JSON file to one other format."""
    async with job_unit(ctx) as session:
        build = await export_snapshots.claim_conversion(session, format_id)
    if build is None:
        return "not claimed"

    async def renew() -> None:
        async with job_unit(ctx) as session:
            await export_snapshots.renew_conversion(session, format_id)

    try:
        path = await export_snapshots.write_conversion(build, renew)
    except Conflict:
        return "deleted or taken over"
    except Exception as exc:
        log.exception("export conversion %s failed", format_id)
        async with job_unit(ctx) as session:
            await export_snapshots.fail_conversion(session, format_id, _message(exc))
        return "failed"
    async with job_unit(ctx) as session:
        kept = await export_snapshots.finish_conversion(session, format_id, path)
    if not kept:
        export_snapshots.remove_file(path)
        return "deleted or taken over"
    return "converted"


async def reap_export_snapshots(ctx: dict[str, Any]) -> int:
    """Send every build nobody is running (never started, or its runner died) to a runner."""
    async with job_unit(ctx) as session:
        snapshots, formats = await export_snapshots.stale_builds(session)
    for snapshot_id in snapshots:
        await ctx["queue"].send("run_export_snapshot", {"snapshot_id": snapshot_id})
    for format_id in formats:
        await ctx["queue"].send("run_export_conversion", {"format_id": format_id})
    if snapshots or formats:
        log.info("restarting export snapshots %s and conversions %s", snapshots, formats)
    return len(snapshots) + len(formats)


async def remove_export_files(ctx: dict[str, Any], folder: str) -> None:
    """A deleted snapshot's files, removed once its deletion committed."""
    export_snapshots.remove_folder(folder)
