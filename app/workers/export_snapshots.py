"""Building export snapshots and their conversions; a build whose runner died is started again."""

import logging
from pathlib import Path
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
    return await build_snapshot(ctx, build)


async def build_snapshot(ctx: dict[str, Any], build: export_snapshots.SnapshotBuild) -> str:
    """Write a claimed snapshot and record the outcome, unless the build was deleted or taken over."""

    async def progress(tasks_done: int) -> None:
        async with job_unit(ctx) as session:
            await export_snapshots.record_progress(session, build, tasks_done)

    try:
        written = await export_snapshots.write_snapshot(ctx["sessionmaker"], build, progress)
    except Conflict:
        return await _step_aside(ctx, build.id, build.path)
    except Exception as exc:
        async with job_unit(ctx) as session:
            kept = await export_snapshots.fail_snapshot(session, build, _message(exc))
        if not kept:  # deleted under it: its files went away, which is why it failed
            return await _step_aside(ctx, build.id, build.path)
        log.error("export snapshot %s failed", build.id, exc_info=exc)
        return "failed"
    async with job_unit(ctx) as session:
        kept = await export_snapshots.finish_snapshot(session, build, written)
    if not kept:
        return await _step_aside(ctx, build.id, build.path)
    return f"exported {written.counters.task_number} tasks"


async def run_export_conversion(ctx: dict[str, Any], format_id: int) -> str:
    """Convert a completed snapshot's JSON file to one other format."""
    async with job_unit(ctx) as session:
        build = await export_snapshots.claim_conversion(session, format_id)
    if build is None:
        return "not claimed"
    return await build_conversion(ctx, build)


async def build_conversion(ctx: dict[str, Any], build: export_snapshots.ConversionBuild) -> str:
    """Write a claimed conversion and record the outcome, unless it was deleted or taken over."""

    async def renew() -> None:
        async with job_unit(ctx) as session:
            await export_snapshots.renew_conversion(session, build)

    try:
        await export_snapshots.write_conversion(build, renew)
    except Conflict:
        return await _step_aside(ctx, build.snapshot_id, build.path)
    except Exception as exc:
        async with job_unit(ctx) as session:
            kept = await export_snapshots.fail_conversion(session, build, _message(exc))
        if not kept:  # its snapshot was deleted under it, taking the file it read
            return await _step_aside(ctx, build.snapshot_id, build.path)
        log.error("export conversion %s failed", build.id, exc_info=exc)
        return "failed"
    async with job_unit(ctx) as session:
        kept = await export_snapshots.finish_conversion(session, build)
    if not kept:
        return await _step_aside(ctx, build.snapshot_id, build.path)
    return "converted"


async def _step_aside(ctx: dict[str, Any], snapshot_id: int, path: Path) -> str:
    """Leave the build to whoever holds it now, or to nobody if it was deleted, taking back what we wrote."""
    async with job_unit(ctx) as session:
        await export_snapshots.discard_build(session, snapshot_id, path)
    return "deleted or taken over"


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
