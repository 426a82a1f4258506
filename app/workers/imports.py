"""Running import jobs: validate the whole file, then write it chunk by chunk, resumably."""

import asyncio
import logging
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from app.domain.errors import Conflict, Invalid
from app.domain.task_import import TaskItem, iter_items
from app.services import imports
from app.workers.unit import job_unit

CHUNK = 5000
log = logging.getLogger("quorum.imports")


def _take(items: Iterator[TaskItem], n: int) -> list[TaskItem]:
    return list(islice(items, n))


async def run_import(ctx: dict[str, Any], import_id: int) -> str:
    """Run (or resume) one import; a second runner on the same job steps aside."""
    async with job_unit(ctx) as session:
        job = await imports.claim_import(session, import_id)
        if job is None:
            return "not claimed"
    async with job_unit(ctx) as session:
        job, config = await imports.import_source(session, import_id)
    path, name, done, total = Path(job.file_path), job.file_name, job.rows_done, job.rows_total
    key = imports.upload_text_key(config)
    try:
        if total is None:
            total = await _validate(ctx, import_id, path, name, key, config)
        with path.open("rb") as stream:
            items = iter_items(stream, name, key)
            await asyncio.to_thread(_take, items, done)
            while chunk := await asyncio.to_thread(_take, items, CHUNK):
                for item in chunk:  # read again from the file: as checked, not as written there
                    imports.full_predictions(config, item)
                async with job_unit(ctx) as session:
                    await imports.write_import_chunk(session, import_id, chunk, done)
                done += len(chunk)
    except Invalid as exc:
        async with job_unit(ctx) as session:
            await imports.finish_import(session, import_id, error=exc.message)
        path.unlink(missing_ok=True)
        return "failed"
    except Conflict:
        return "taken over"
    async with job_unit(ctx) as session:
        await imports.finish_import(session, import_id)
    path.unlink(missing_ok=True)
    return f"imported {done} of {total}"


async def _validate(ctx: dict[str, Any], import_id: int, path: Path, name: str, key: str, config: Any) -> int:
    """Check every row before the first write, so a bad file leaves nothing behind."""
    row = 1
    with path.open("rb") as stream:
        items = iter_items(stream, name, key)
        while chunk := await _checked(items, config, row):
            row += len(chunk)
            async with job_unit(ctx) as session:
                await imports.renew_lease(session, import_id)
    async with job_unit(ctx) as session:
        await imports.set_rows_total(session, import_id, row - 1)
    return row - 1


async def _checked(items: Iterator[TaskItem], config: Any, row: int) -> list[TaskItem]:
    """The next chunk, checked. Reading and checking touch only the file, so any error here recurs
    on every run: an unforeseen one fails the job (logged), where a retry would loop forever."""
    try:
        chunk = await asyncio.to_thread(_take, items, CHUNK)
        await asyncio.to_thread(imports.check_items, config, chunk, row)
    except Invalid:
        raise
    except Exception:
        log.exception("import: unexpected error checking the file from task %d", row)
        raise Invalid(
            f"the file could not be read from task {row} on (a server error, logged); nothing was imported"
        ) from None
    return chunk


async def reap_imports(ctx: dict[str, Any]) -> int:
    """Send every import nobody is running (never started, or its runner died) to a runner."""
    async with job_unit(ctx) as session:
        stale = await imports.stale_imports(session)
    for import_id in stale:
        await ctx["queue"].send("run_import", {"import_id": import_id})
    if stale:
        log.info("resuming imports %s", stale)
    return len(stale)
