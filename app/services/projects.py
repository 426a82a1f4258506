"""Projects: create, read, list, update, delete, with settings and label config kept valid."""

import secrets
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, cast

import orjson
from sqlalchemy import Table, case, delete, distinct, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.bulk import among
from app.db.models import (
    Annotation,
    ExportSnapshot,
    Prediction,
    Project,
    ProjectMember,
    ProjectTotals,
    Task,
    TaskBucket,
    Workspace,
    WorkspaceMember,
)
from app.domain.errors import Conflict, Forbidden, Invalid, NotFound
from app.domain.label_config import (
    LabelConfig,
    breaking_changes,
    default_control_weights,
    parse_label_config,
    result_usage,
)
from app.domain.label_stream import overlap_targets
from app.domain.pagination import Page, check_in_range
from app.domain.project_settings import ProjectSettings, apply_ls_fields, validate_settings
from app.domain.roles import Actor
from app.domain.task_state import SkipQueue
from app.services import agreement
from app.services.jobs import enqueue

GENERAL_COLUMNS = ("title", "description", "color")

_parse_cached = lru_cache(maxsize=256)(parse_label_config)


def config_of(project: Project) -> LabelConfig:
    """The project's parsed labeling config (parsed once per distinct config text)."""
    return _parse_cached(project.label_config)


def settings_of(project: Project) -> ProjectSettings:
    """The project's settings: the General columns plus the stored JSON, validated once per distinct
    value (validating them on every label stream call and submit cost 3 to 7% of its server CPU)."""
    general = tuple(getattr(project, name) for name in GENERAL_COLUMNS)
    return _settings(orjson.dumps(project.settings), general)


@lru_cache(maxsize=128)
def _settings(stored: bytes, general: tuple[str, ...]) -> ProjectSettings:
    tree = orjson.loads(stored)
    tree["general"] = {**tree.get("general", {}), **dict(zip(GENERAL_COLUMNS, general, strict=True))}
    return ProjectSettings.model_validate(tree)


def _store_settings(project: Project, settings: ProjectSettings) -> None:
    dumped = settings.model_dump(mode="json")
    for name in GENERAL_COLUMNS:
        setattr(project, name, dumped["general"].pop(name))
    project.settings = dumped


def visible_projects(actor: Actor) -> Any:
    """The filter for projects the actor may see: all of the organization's for managers and up."""
    return visible_to(actor.organization_id, actor.user_id, manages=actor.manages)


def visible_to(organization_id: Any, user_id: Any, *, manages: bool) -> Any:
    """`visible_projects` from ids given as values or as bound parameters (for prebuilt statements)."""
    condition = Project.organization_id == organization_id
    if manages:
        return condition
    member = exists().where(ProjectMember.project_id == Project.id, ProjectMember.user_id == user_id)
    via_workspace = exists().where(
        WorkspaceMember.workspace_id == Project.workspace_id, WorkspaceMember.user_id == user_id
    )
    return condition & or_(member, via_workspace)


async def get_project(
    session: AsyncSession, actor: Actor, project_id: int, *, for_update: bool = False
) -> Project:
    query = select(Project).where(Project.id == project_id, visible_projects(actor))
    if for_update:
        query = query.with_for_update()
    project = await session.scalar(query)
    if project is None:
        raise NotFound("Not found.")
    return project


async def get_managed_project(session: AsyncSession, actor: Actor, project_id: int) -> Project:
    """A project the actor may change: managers and up only."""
    project = await get_project(session, actor, project_id)
    if not actor.manages:
        raise Forbidden("only managers, administrators and owners change projects")
    return project


async def list_projects(
    session: AsyncSession, actor: Actor, page: Page, *, title: str | None = None, ids: list[int] | None = None
) -> tuple[list[Project], int]:
    """One page of visible projects, pinned first, then newest first, with the total count."""
    condition = visible_projects(actor)
    if title:
        condition = condition & Project.title.ilike(f"%{title}%")
    if ids:
        condition = condition & Project.id.in_(ids)
    total = await session.scalar(select(func.count(Project.id)).where(condition)) or 0
    check_in_range(page, total)
    rows = await session.scalars(
        select(Project)
        .where(condition)
        .order_by(Project.pinned_at.desc().nulls_last(), Project.created_at.desc(), Project.id.desc())
        .offset(page.offset)
        .limit(page.size)
    )
    return list(rows), total


def _parse_config(xml: str) -> LabelConfig:
    if not isinstance(xml, str):
        raise Invalid("label_config must be a string of XML", field="label_config")
    return parse_label_config(xml)


async def create_project(
    session: AsyncSession, actor: Actor, payload: Mapping[str, Any], *, workspace_id: int | None = None
) -> Project:
    """Create a project from Label Studio's flat fields (unknown keys ignored, bad values named)."""
    if not actor.manages:
        raise Forbidden("only managers, administrators and owners create projects")
    if workspace_id is not None and not await _workspace_exists(session, actor, workspace_id):
        raise Invalid(f"workspace {workspace_id} does not exist in your organization", field="workspace")
    label_config = payload.get("label_config") or "<View></View>"
    config = _parse_config(label_config)
    settings = apply_ls_fields(ProjectSettings(), payload)
    settings = _with_default_weights(settings, config)
    project = Project(
        organization_id=actor.organization_id,
        workspace_id=workspace_id,
        label_config=label_config,
        created_by_id=actor.user_id,
        random_seed=secrets.randbits(62),
    )
    _store_settings(project, settings)
    session.add(project)
    await session.flush()
    return project


async def _workspace_exists(session: AsyncSession, actor: Actor, workspace_id: int) -> bool:
    found = select(Workspace.id).where(
        Workspace.id == workspace_id, Workspace.organization_id == actor.organization_id
    )
    return await session.scalar(found) is not None


def _with_default_weights(settings: ProjectSettings, config: LabelConfig) -> ProjectSettings:
    """Fill custom weights for controls that have none, so every control has a weight."""
    weights = default_control_weights(config)
    tree = settings.model_dump(mode="json")
    weights.update({k: v for k, v in tree["quality"]["control_weights"].items() if k in weights})
    tree["quality"]["control_weights"] = weights
    return validate_settings(tree)


async def update_project(
    session: AsyncSession, actor: Actor, project_id: int, payload: Mapping[str, Any]
) -> Project:
    """Apply a partial update; a config change that would orphan existing annotations is refused."""
    project = await get_managed_project(session, actor, project_id)
    settings = apply_ls_fields(settings_of(project), payload)
    config_changed = "label_config" in payload and payload["label_config"] != project.label_config
    if config_changed:
        config = _parse_config(payload["label_config"])
        await _refuse_breaking_config(session, project, config)
        project.label_config = payload["label_config"]
        settings = _with_default_weights(settings, config)
    before = settings_of(project)
    _store_settings(project, settings)
    await session.flush()
    if _overlap_inputs(before) != _overlap_inputs(settings):
        await refresh_overlap(session, project)
    if config_changed or _evaluation_inputs(before) != _evaluation_inputs(settings):
        await agreement.refresh_evaluation(session, project.id, settings, config_of(project))
    return project


def _evaluation_inputs(settings: ProjectSettings) -> tuple[object, ...]:
    """What members' ground-truth agreement depends on, besides annotations."""
    return (settings.quality.evaluation.enabled, settings.quality.control_weights)


def _overlap_inputs(settings: ProjectSettings) -> tuple[object, ...]:
    quality = settings.quality
    return (quality.annotations_per_task, quality.coverage_percent, settings.effective_skip_queue())


def counted_annotations(skip_queue: SkipQueue) -> list[Any]:
    """Which annotations count toward a task's overlap: submits, and skips under "ignore skipped";
    never ground truth (`is_labeled`'s rule, for statements). On the table's columns, which serve
    ORM statements as well, and keep a Core statement out of the ORM's execution path."""
    columns = cast(Table, Annotation.__table__).c
    conditions = [columns.ground_truth.is_(False)]
    if skip_queue is not SkipQueue.IGNORE:
        conditions.append(columns.was_cancelled.is_(False))
    return conditions


async def refresh_overlap(session: AsyncSession, project: Project) -> None:
    """Give each task its overlap target (Annotations per task and coverage, plus the annotators the
    low agreement strategy added) and recompute, in this transaction, which tasks are labeled.
    Existing annotations are kept whatever the new targets."""
    settings = settings_of(project)
    per_task = settings.quality.annotations_per_task
    tasks = Task.__table__
    if per_task == 1 or settings.quality.coverage_percent >= 100:
        await session.execute(
            update(Task).where(Task.project_id == project.id).values(overlap=per_task + Task.extra_overlap)
        )
    else:
        inner_ids = list(await session.scalars(select(Task.inner_id).where(Task.project_id == project.id)))
        targets = overlap_targets(inner_ids, per_task, settings.quality.coverage_percent, project.random_seed)
        cohort = [inner for inner, overlap in targets.items() if overlap > 1]
        await session.execute(
            update(Task)
            .where(Task.project_id == project.id)
            .values(overlap=case((among(Task.inner_id, cohort), per_task), else_=1) + Task.extra_overlap)
        )
    counted = counted_annotations(settings.effective_skip_queue())
    done = (
        select(func.count(distinct(Annotation.completed_by_id)))
        .where(Annotation.task_id == tasks.c.id, *counted)
        .scalar_subquery()
        >= tasks.c.overlap
    )
    await session.execute(
        update(Task)
        .where(Task.project_id == project.id)
        .values(
            is_labeled=done,
            completed_at=case((done, func.coalesce(Task.completed_at, utcnow())), else_=None),
        )
    )
    await session.flush()


async def _refuse_breaking_config(session: AsyncSession, project: Project, config: LabelConfig) -> None:
    results = await session.stream_scalars(
        select(Annotation.result).where(
            Annotation.project_id == project.id, Annotation.was_cancelled.is_(False)
        )
    )
    usage = result_usage([r async for r in results])
    problems = breaking_changes(config, usage)
    if problems:
        raise Conflict(
            "the new labeling config would orphan existing annotations: " + "; ".join(problems),
            field="label_config",
            extra={"problems": problems},
        )


async def validate_config(session: AsyncSession, actor: Actor, project_id: int, label_config: str) -> bool:
    """Check a config against the project; returns whether its essential data changed."""
    project = await get_project(session, actor, project_id)
    config = _parse_config(label_config)
    await _refuse_breaking_config(session, project, config)
    old = config_of(project)
    return old.data_keys != config.data_keys or set(old.controls) != set(config.controls)


async def delete_project(session: AsyncSession, actor: Actor, project_id: int) -> None:
    """Delete the project and everything in it; its export snapshots' files go once this commits."""
    project = await get_managed_project(session, actor, project_id)
    folders = await session.scalars(
        select(ExportSnapshot.folder).where(ExportSnapshot.project_id == project.id)
    )
    for folder in folders:
        enqueue(session, "remove_export_files", folder=folder)
    await session.execute(delete(Project).where(Project.id == project.id))
    await session.execute(delete(ProjectTotals).where(ProjectTotals.project_id == project.id))
    await session.execute(delete(TaskBucket).where(TaskBucket.project_id == project.id))


async def model_versions(session: AsyncSession, actor: Actor, project_id: int) -> dict[str, int]:
    """Prediction counts per model version, as the legacy client's coverage call expects."""
    project = await get_project(session, actor, project_id)
    rows = await session.execute(
        select(Prediction.model_version, func.count(Prediction.id))
        .where(Prediction.project_id == project.id)
        .group_by(Prediction.model_version)
    )
    return {version: count for version, count in rows}


async def project_counters(session: AsyncSession, project_ids: list[int]) -> dict[int, dict[str, int]]:
    """Label Studio's project counters for several projects, from the maintained totals: reading
    them costs the same at a million tasks as at ten."""
    if not project_ids:
        return {}
    totals = (
        ProjectTotals.tasks,
        ProjectTotals.finished,
        ProjectTotals.annotations,
        ProjectTotals.skipped,
        ProjectTotals.predictions,
        ProjectTotals.annotated,
    )
    rows = await session.execute(
        select(ProjectTotals.project_id, *(func.coalesce(func.sum(total), 0) for total in totals))
        .where(ProjectTotals.project_id.in_(project_ids))
        .group_by(ProjectTotals.project_id)
    )
    counters = {pid: _counters(0, 0, 0, 0, 0, 0) for pid in project_ids}
    for pid, *sums in rows:
        counters[pid] = _counters(*(int(value) for value in sums))
    gt = await session.execute(
        select(Annotation.project_id, func.count(Annotation.id))
        .where(Annotation.project_id.in_(project_ids), Annotation.ground_truth)
        .group_by(Annotation.project_id)
    )
    for pid, count in gt:
        counters[pid]["ground_truth_number"] = count
    return counters


def _counters(
    tasks: int, finished: int, annotations: int, skipped: int, predictions: int, with_annotations: int
) -> dict[str, int]:
    return {
        "task_number": tasks,
        "finished_task_number": finished,
        "total_annotations_number": annotations,
        "skipped_annotations_number": skipped,
        "total_predictions_number": predictions,
        "num_tasks_with_annotations": with_annotations,
        "useful_annotation_number": annotations,
        "ground_truth_number": 0,
    }


async def recount_project(session: AsyncSession, project_id: int) -> int:
    """Set the maintained task counter from the table, correcting any drift. The project row is
    locked first, as task writers lock it, so no import commits between the count and the write."""
    await session.execute(select(Project.id).where(Project.id == project_id).with_for_update())
    count = await session.scalar(select(func.count(Task.id)).where(Task.project_id == project_id)) or 0
    await session.execute(update(Project).where(Project.id == project_id).values(task_count=count))
    return count
