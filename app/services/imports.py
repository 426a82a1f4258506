"""Import tasks with inline annotations and predictions: small ones at once, large files as a job.

An import at once is checked a part at a time while the database writes the part before, all in
one transaction, so an error anywhere leaves nothing. A job validates the whole file first, then
writes it in chunks; each chunk commits together with the job's progress, so a crashed job
resumes where it stopped and never writes a row twice.
"""

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.bulk import Rows, allocate_ids, copy_pipe
from app.db.models import Annotation, Membership, Prediction, Project, ProjectImport, Task, User
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.label_config import (
    LabelConfig,
    normalize_prediction_result,
    validate_result,
    validate_task_data,
)
from app.domain.roles import Actor
from app.domain.task_import import TaskItem, annotator_ref, check_inline, download_name, model_version
from app.domain.task_state import is_labeled, random_key
from app.services import agreement, outbound
from app.services.jobs import enqueue
from app.services.predictions import PREDICTION_COLUMNS
from app.services.projects import config_of, get_managed_project, get_project, refresh_overlap, settings_of
from app.services.statistics import note_bulk_write

LEASE = timedelta(seconds=15)
PART = 25  # tasks checked and built between the writer's turns
TASK_COLUMNS = (
    "id", "project_id", "inner_id", "data", "meta", "allow_skip", "overlap", "random_key", "created_at",
    "updated_at", "total_annotations", "cancelled_annotations", "total_predictions", "is_labeled",
    "completed_at", "import_id",
)  # fmt: skip
ANNOTATION_COLUMNS = (
    "task_id", "project_id", "completed_by_id", "result", "was_cancelled", "ground_truth", "lead_time",
    "prediction", "last_action", "bulk_created", "created_at", "updated_at",
)  # fmt: skip
TABLES = tuple(
    (cast(Table, model.__table__), columns)
    for model, columns in (
        (Task, TASK_COLUMNS),
        (Annotation, ANNOTATION_COLUMNS),
        (Prediction, PREDICTION_COLUMNS),
    )
)


@dataclass
class Written:
    task_ids: list[int]
    annotation_count: int
    prediction_count: int
    data_columns: list[str]


def check_items(config: LabelConfig, items: Iterable[TaskItem], first_row: int = 1) -> None:
    """Validate tasks and their inline results, naming the row (and field) of the first error;
    predictions' results are left in full form (`full_predictions`)."""
    for row, item in enumerate(items, start=first_row):
        try:
            validate_task_data(config, item.data)
            check_inline(item)
            full_predictions(config, item)
            for i, entry in enumerate(item.annotations):
                result = entry.get("result") or []
                if not isinstance(result, list):
                    raise Invalid(f"annotations[{i}].result must be a list", field="result")
                if not entry.get("was_cancelled"):
                    validate_result(config, result)
        except Invalid as exc:
            raise Invalid(f"task {row}: {exc.message}", field=exc.field) from None


def full_predictions(config: LabelConfig, item: TaskItem) -> None:
    """An item's predictions with results in full form: a bare label or value object, which Label
    Studio accepts, becomes a list of results."""
    for entry in item.predictions:
        entry["result"] = normalize_prediction_result(config, entry.get("result", []))


async def _lock_project(session: AsyncSession, project_id: int) -> Project:
    """The project row, locked and fresh: inner ids and counters are allocated under this lock."""
    project = await session.scalar(
        select(Project)
        .where(Project.id == project_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if project is None:
        raise NotFound("Not found.")
    return project


async def _members(
    session: AsyncSession, organization_id: int, items: Iterable[TaskItem]
) -> dict[int | str, int]:
    """The organization's users that inline annotations name, by id and by email.

    A name that is not a member (another server's id, another organization's user) is not
    trusted: that annotation is recorded as the importer's.
    """
    refs = {annotator_ref(a) for item in items for a in item.annotations} - {None}
    if not refs:
        return {}
    rows = await session.execute(
        select(User.id, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organization_id == organization_id,
            or_(
                User.id.in_([r for r in refs if isinstance(r, int)]),
                User.email.in_([r for r in refs if isinstance(r, str)]),
            ),
        )
    )
    found: dict[int | str, int] = {}
    for user_id, email in rows:
        found[user_id] = found[email] = user_id
    return found


def _counters(
    item: TaskItem, authors: list[int | None], overlap: int, skip_queue: str
) -> tuple[int, int, int, bool]:
    """Counters of a new task, counted as `refresh_task_state` counts them: ground truth is in the
    totals but never toward the overlap."""
    submitted = sum(1 for a in item.annotations if not a.get("was_cancelled"))
    annotators: set[int | None] = set()
    everyone: set[int | None] = set()
    for author, annotation in zip(authors, item.annotations, strict=True):
        if not annotation.get("ground_truth"):
            everyone.add(author)
            if not annotation.get("was_cancelled"):
                annotators.add(author)
    labeled = is_labeled(
        annotators=len(annotators),
        skippers_only=len(everyone - annotators),
        overlap=overlap,
        skip_queue=skip_queue,
    )
    return submitted, len(item.annotations) - submitted, len(item.predictions), labeled


def _author(members: dict[int | str, int], annotation: dict[str, Any], importer: int | None) -> int | None:
    ref = annotator_ref(annotation)
    return importer if ref is None else members.get(ref, importer)


@dataclass
class _Rows:
    """What all the rows of one import share, and its tasks' rows built from it a part at a time."""

    project: Project
    overlap: int
    skip_queue: str
    members: dict[int | str, int]
    importer: int | None
    import_id: int | None
    now: datetime

    def part(self, ids: list[int], items: list[TaskItem], start: int, stop: int) -> tuple[Rows, Rows, Rows]:
        """Rows of tasks, annotations and predictions for `items[start:stop]`."""
        tasks: Rows = []
        annotations: Rows = []
        predictions: Rows = []
        project_id, now = self.project.id, self.now
        for task_id, item, inner in zip(ids[start:stop], items[start:stop], range(start, stop), strict=True):
            inner += self.project.next_inner_id
            authors = [_author(self.members, a, self.importer) for a in item.annotations]
            submitted, skipped, predicted, labeled = _counters(item, authors, self.overlap, self.skip_queue)
            tasks.append(
                (task_id, project_id, inner, item.data, item.meta, item.allow_skip, self.overlap,
                 random_key(self.project.random_seed, inner), now, now, submitted, skipped, predicted,
                 labeled, now if labeled else None, self.import_id)
            )  # fmt: skip
            annotations.extend(
                (task_id, project_id, author, a.get("result") or [], bool(a.get("was_cancelled", False)),
                 bool(a.get("ground_truth", False)), a.get("lead_time"), {}, "imported", True, now, now)
                for a, author in zip(item.annotations, authors, strict=True)
            )  # fmt: skip
            predictions.extend(
                (task_id, project_id, p["result"], p.get("score"), model_version(p), 0.0, now, now)
                for p in item.predictions
            )  # fmt: skip
        return tasks, annotations, predictions


async def write_tasks(
    session: AsyncSession,
    project_id: int,
    user_id: int | None,
    items: list[TaskItem],
    import_id: int | None = None,
    check: Callable[[int, int], None] | None = None,
) -> Written:
    """Write items in bulk (COPY on PostgreSQL), with counters and inner ids. `check(start, stop)`
    validates `items[start:stop]` just before they are built: the database writes one part while
    the next is checked, and an error rolls the caller's transaction back."""
    project = await _lock_project(session, project_id)
    settings = settings_of(project)
    members = await _members(session, project.organization_id, items)
    ids = await allocate_ids(session, Task.__table__, len(items))  # type: ignore[arg-type]
    overlap = settings.quality.annotations_per_task
    skip_queue = settings.effective_skip_queue().value
    rows = _Rows(project, overlap, skip_queue, members, user_id, import_id, utcnow())
    annotation_count = prediction_count = 0
    async with copy_pipe(session, *TABLES) as pipe:
        for start in range(0, len(items), PART):
            stop = min(start + PART, len(items))
            if check:
                check(start, stop)
            tasks, annotations, predictions = rows.part(ids, items, start, stop)
            annotation_count += len(annotations)
            prediction_count += len(predictions)
            await pipe.add(tasks, annotations, predictions)
    await note_bulk_write(
        session, {"tasks": len(items), "annotations": annotation_count, "predictions": prediction_count}
    )
    keys = sorted({k for item in items for k in item.data})
    project.next_inner_id += len(items)
    project.task_count += len(items)
    project.data_columns = sorted(set(project.data_columns) | set(keys))
    await session.flush()
    if overlap > 1 and settings.quality.coverage_percent < 100:
        await refresh_overlap(session, project)
    # new tasks: only a ground truth among their own annotations scores anyone against them
    if any(a.get("ground_truth") for item in items for a in item.annotations):
        await agreement.refresh_evaluation(session, project.id, settings, config_of(project))
    return Written(ids, annotation_count, prediction_count, keys)


@dataclass
class ImportResult:
    task_ids: list[int]
    annotation_count: int
    prediction_count: int
    duration: float
    data_columns: list[str]


async def import_tasks(
    session: AsyncSession,
    actor: Actor,
    project_id: int,
    items: list[TaskItem],
    files: Sequence[tuple[str, int]] = (),
) -> ImportResult:
    """Validate every item first, then write them all in this transaction. `files`: the uploaded
    files the items came from, in order, with how many each gave: an error names its file and the
    task's number in it."""
    started = time.perf_counter()
    project = await get_managed_project(session, actor, project_id)
    check = _checker(config_of(project), items, files)
    written = await write_tasks(session, project.id, actor.user_id, items, check=check)
    return ImportResult(
        written.task_ids,
        written.annotation_count,
        written.prediction_count,
        time.perf_counter() - started,
        written.data_columns,
    )


def _checker(
    config: LabelConfig, items: list[TaskItem], files: Sequence[tuple[str, int]]
) -> Callable[[int, int], None]:
    """`check(start, stop)` for `write_tasks`: an error names its file and the task's number in it."""
    spans: list[tuple[str, int, int]] = []
    first = 0
    for name, count in files or [("", len(items))]:
        spans.append((name, first, first + count))
        first += count

    def check(start: int, stop: int) -> None:
        for name, first, end in spans:
            if (low := max(start, first)) < (high := min(stop, end)):
                try:
                    check_items(config, items[low:high], low - first + 1)
                except Invalid as exc:
                    raise Invalid(f"{name}: {exc.message}", field=exc.field) if name else exc from None

    return check


async def create_import(
    session: AsyncSession, actor: Actor, project_id: int, path: Path, file_name: str, *, return_task_ids: bool
) -> ProjectImport:
    """Record a stored upload as an import job and ask a worker to run it."""
    project = await get_managed_project(session, actor, project_id)
    job = ProjectImport(
        project_id=project.id,
        created_by_id=actor.user_id,
        file_path=str(path),
        file_name=file_name,
        file_size=path.stat().st_size,
        return_task_ids=return_task_ids,
    )
    session.add(job)
    await session.flush()
    enqueue(session, "run_import", import_id=job.id)
    return job


async def download_import(url: str, limits: outbound.Limits, folder: Path) -> tuple[Path, str]:
    """Fetch a URL import into `folder`, under a name of our choosing.

    Returns the stored file and the name that tells its format. The caller checks first that the
    actor may import, so only they can make the server send a request; no database connection is
    needed meanwhile.
    """
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f"{uuid.uuid4().hex}.part"
    fetched = await outbound.download(limits, url, part)
    try:
        name = download_name(fetched.url, fetched.content_type)
    except Invalid:
        part.unlink()
        raise
    return part.rename(part.with_suffix(Path(name).suffix)), name


async def get_import(session: AsyncSession, actor: Actor, project_id: int, import_id: int) -> ProjectImport:
    project = await get_project(session, actor, project_id)
    job = await session.scalar(
        select(ProjectImport).where(ProjectImport.id == import_id, ProjectImport.project_id == project.id)
    )
    if job is None:
        raise NotFound("Not found.")
    return job


async def import_task_ids(session: AsyncSession, job: ProjectImport) -> list[int]:
    rows = await session.scalars(select(Task.id).where(Task.import_id == job.id).order_by(Task.id))
    return list(rows)


async def claim_import(session: AsyncSession, import_id: int) -> ProjectImport | None:
    """Take the job's lease; None when it is finished or another runner holds a live lease."""
    job = await session.scalar(
        select(ProjectImport)
        .where(ProjectImport.id == import_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    now = utcnow()
    if job is None or job.status in ("completed", "failed"):
        return None
    if job.status == "in_progress" and job.lease_until and job.lease_until > now:
        return None
    job.status = "in_progress"
    job.lease_until = now + LEASE
    return job


async def write_import_chunk(
    session: AsyncSession, import_id: int, items: list[TaskItem], rows_before: int
) -> None:
    """Write one chunk and advance the job in the same transaction; refuse if another runner moved it."""
    job = await session.scalar(
        select(ProjectImport)
        .where(ProjectImport.id == import_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if job is None or job.status != "in_progress" or job.rows_done != rows_before:
        raise Conflict(f"import {import_id} moved on under another runner")
    written = await write_tasks(session, job.project_id, job.created_by_id, items, import_id=job.id)
    job.rows_done += len(items)
    job.annotation_count += written.annotation_count
    job.prediction_count += written.prediction_count
    job.data_columns = sorted(set(job.data_columns) | set(written.data_columns))
    job.lease_until = utcnow() + LEASE


async def finish_import(session: AsyncSession, import_id: int, *, error: str = "") -> None:
    """Mark the job completed, or failed with a message for a person."""
    job = await session.get_one(ProjectImport, import_id)
    job.status = "failed" if error else "completed"
    job.error = error
    job.finished_at = utcnow()
    job.duration = (job.finished_at - job.created_at).total_seconds()
    job.lease_until = None
    if not error:
        enqueue(session, "recount_project", project_id=job.project_id)


async def set_rows_total(session: AsyncSession, import_id: int, total: int) -> None:
    await session.execute(update(ProjectImport).where(ProjectImport.id == import_id).values(rows_total=total))


async def stale_imports(session: AsyncSession) -> list[int]:
    """Jobs nobody is running: never started, or whose runner's lease ran out."""
    rows = await session.scalars(
        select(ProjectImport.id).where(
            ProjectImport.status.in_(("created", "in_progress")),
            or_(ProjectImport.lease_until.is_(None), ProjectImport.lease_until < utcnow()),
        )
    )
    return list(rows)


async def import_source(session: AsyncSession, import_id: int) -> tuple[ProjectImport, LabelConfig]:
    """The job and its project's config, for a runner reading the file."""
    job = await session.get_one(ProjectImport, import_id)
    project = await session.get_one(Project, job.project_id)
    return job, config_of(project)


async def renew_lease(session: AsyncSession, import_id: int) -> None:
    await session.execute(
        update(ProjectImport).where(ProjectImport.id == import_id).values(lease_until=utcnow() + LEASE)
    )


def upload_text_key(config: LabelConfig) -> str:
    """Plain-text uploads put each line under the config's only data key (or `text`)."""
    keys = sorted(config.data_keys)
    return keys[0] if len(keys) == 1 else "text"
