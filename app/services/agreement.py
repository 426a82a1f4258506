"""Agreement in the workflow: members evaluated against ground truth, and one more annotator for a
finished task whose annotators disagree (the low agreement strategy).

Scores come from `app.domain.agreement`; here are the annotations they are computed from.
"""

from collections import defaultdict
from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db.models import Annotation, ProjectMember, Task
from app.domain.agreement import annotation_agreement, task_agreement
from app.domain.label_config import LabelConfig
from app.domain.label_stream import may_add_annotator, needs_another_annotator
from app.domain.project_settings import ProjectSettings

Results = list[dict[str, Any]]


def _controls(config: LabelConfig) -> dict[str, str]:
    return {control.name: control.tag for control in config.controls.values()}


def _weights(settings: ProjectSettings) -> dict[str, dict[str, Any]]:
    return {name: weight.model_dump() for name, weight in settings.quality.control_weights.items()}


async def has_ground_truth(session: AsyncSession, task_id: int) -> bool:
    truth = select(Annotation.id).where(Annotation.task_id == task_id, Annotation.ground_truth).limit(1)
    return await session.scalar(truth) is not None


async def refresh_evaluation(
    session: AsyncSession,
    project_id: int,
    settings: ProjectSettings,
    config: LabelConfig,
    *,
    users: Collection[int] = (),
    task_id: int | None = None,
) -> None:
    """Recompute the ground-truth agreement of the members among `users` and of those who worked on
    `task_id` (every member when neither is given): the mean, over ground-truth tasks they
    submitted, of their latest submission's agreement with the ground truth. Kept while evaluation
    is on, pausing or not ("calculated in the background")."""
    if not settings.quality.evaluation.enabled:
        return
    members = select(ProjectMember).where(ProjectMember.project_id == project_id)
    if users or task_id is not None:
        workers = select(Annotation.completed_by_id).where(Annotation.task_id == task_id)
        members = members.where(
            or_(ProjectMember.user_id.in_(list(users)), ProjectMember.user_id.in_(workers))
        )
    evaluated = {member.user_id: member for member in await session.scalars(members)}
    if not evaluated:
        return
    truth = aliased(Annotation)
    rows = await session.execute(
        select(Annotation.completed_by_id, Annotation.task_id, Annotation.result, truth.result)
        .join(truth, and_(truth.task_id == Annotation.task_id, truth.ground_truth))
        .where(
            Annotation.project_id == project_id,
            Annotation.completed_by_id.in_(evaluated),
            Annotation.ground_truth.is_(False),
            Annotation.was_cancelled.is_(False),
        )
        .order_by(Annotation.id)
    )
    latest: dict[int, dict[int, tuple[Results, Results]]] = defaultdict(dict)
    for user_id, task, result, truth_result in rows:
        latest[user_id][task] = (result, truth_result)
    controls, weights = _controls(config), _weights(settings)
    for user_id, member in evaluated.items():
        pairs = latest[user_id].values()
        scores = [annotation_agreement(mine, gt, controls, weights) for mine, gt in pairs]
        member.evaluation_tasks = len(scores)
        member.evaluation_score = sum(scores) / len(scores) if scores else None


async def add_annotator_on_low_agreement(
    session: AsyncSession, task: Task, settings: ProjectSettings, config: LabelConfig
) -> None:
    """A task that just met its overlap with agreement below the threshold takes one more annotator:
    its overlap grows by one and it is open again."""
    strategy = settings.quality.agreement
    if not may_add_annotator(settings, task.extra_overlap):
        return
    rows = await session.execute(
        select(Annotation.completed_by_id, Annotation.result)
        .where(
            Annotation.task_id == task.id,
            Annotation.ground_truth.is_(False),
            Annotation.was_cancelled.is_(False),
        )
        .order_by(Annotation.id)
    )
    latest = {user_id: result for user_id, result in rows}
    agreement = task_agreement(
        list(latest.values()), _controls(config), _weights(settings), methodology=strategy.methodology
    )
    if needs_another_annotator(settings, agreement, task.extra_overlap):
        task.extra_overlap += 1
        task.overlap += 1
        task.is_labeled = False
        task.completed_at = None
