"""Operations on more tasks than one statement takes parameters: 32,767 on PostgreSQL (asyncpg),
32,766 on SQLite. A list of task ids must reach the database as one value, not one per id."""

import pytest
from sqlalchemy import func, select

from app.db.models import Prediction, Task, TaskAssignment
from app.domain.label_stream.quotas import share_of
from app.domain.roles import Role
from app.domain.task_import import TaskItem
from app.domain.task_query import TaskQuery
from app.services import assignments, imports, members, predictions
from tests.factories import make_actor, make_project

pytestmark = pytest.mark.core

MANY = 33_200  # at 99% coverage, 32,868 tasks get the overlap: past both limits


async def project_with(session, tasks, **settings):
    owner, _ = await make_actor(session, Role.OWNER)
    project = await make_project(session, owner, **settings)
    items = [TaskItem({"review_text": str(i)}) for i in range(tasks)]
    written = await imports.import_tasks(session, owner, project.id, items)
    return owner, project, written.task_ids


async def test_coverage_chooses_its_share_of_more_tasks_than_a_statement_takes_parameters(session):
    _, project, _ = await project_with(session, MANY, maximum_annotations=2, overlap_cohort_percentage=99)
    covered = await session.scalar(
        select(func.count()).where(Task.project_id == project.id, Task.overlap == 2)
    )
    assert covered == share_of(MANY, 99) > 32_767


async def test_predictions_for_more_tasks_than_a_statement_takes_parameters(session):
    owner, project, ids = await project_with(session, MANY)
    body = [{"task": task_id, "result": "Positive", "score": 0.5} for task_id in ids]
    assert await predictions.import_predictions(session, owner, project.id, body) == MANY
    assert await session.scalar(select(func.count()).where(Prediction.project_id == project.id)) == MANY
    assert set(
        await session.scalars(select(Task.total_predictions).where(Task.project_id == project.id))
    ) == {1}


async def test_assigning_more_tasks_than_a_statement_takes_parameters(session):
    owner, project, ids = await project_with(session, MANY)
    annotator, _ = await make_actor(session, Role.ANNOTATOR, organization_id=owner.organization_id)
    await members.add_member(session, owner, project.id, annotator.user_id)
    chosen = TaskQuery(selected_all=False, selected_ids=tuple(ids))
    added = await assignments.assign(session, owner, project.id, [annotator.user_id], chosen, "AN")
    assert added == MANY
    assert await session.scalar(select(func.count()).select_from(TaskAssignment)) == MANY
    assert await assignments.unassign(session, owner, project.id, chosen, "AN") == MANY
