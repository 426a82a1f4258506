"""The migrations build exactly the schema the models describe, on both databases, and mend stored data."""

import asyncio

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.base import Base, utcnow
from app.db.migrate import alembic_config
from app.db.models import Project, Task, TaskReservation
from app.domain.task_import import TaskItem
from app.services.imports import import_tasks
from app.services.projects import settings_of
from tests.factories import make_actor, make_project

pytestmark = pytest.mark.core


async def test_upgrade_head_leaves_nothing_for_autogenerate(engine: AsyncEngine):
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []


async def test_a_stored_agreement_metric_other_than_default_becomes_default(session, database_url):
    """Names other than 'default' were once stored and ignored; revision 0013 sets them to 'default',
    so those projects' settings load under the rule that now refuses them."""
    actor, _ = await make_actor(session)
    project = await make_project(session, actor, agreement_threshold="0.7")
    project_id, stored = project.id, project.settings
    stored["quality"]["agreement"]["metric"] = "exact_matching"
    await session.execute(update(Project).where(Project.id == project_id).values(settings=stored))
    await session.commit()
    with pytest.raises(ValidationError):
        settings_of(await session.get(Project, project_id, populate_existing=True))
    await session.rollback()  # the migration writes from another connection

    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0012")
    await asyncio.to_thread(command.upgrade, config, "head")

    settings = settings_of(await session.get(Project, project_id, populate_existing=True))
    assert settings.quality.agreement.metric == "default"
    assert settings.quality.agreement.threshold == 0.7  # the rest of the settings kept


async def test_reservations_left_side_by_side_are_merged_to_the_newest(session, database_url):
    """Revision 0014 holds one reservation per annotator per project; of the rows two requests once
    left side by side it keeps the newest."""
    actor, _ = await make_actor(session)
    project = await make_project(session, actor)
    await import_tasks(
        session, actor, project.id, [TaskItem({"review_text": "a"}), TaskItem({"review_text": "b"})]
    )
    project_id, user_id = project.id, actor.user_id
    task_ids = list(
        await session.scalars(select(Task.id).where(Task.project_id == project_id).order_by(Task.id))
    )
    await session.commit()
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0013")
    for task_id in task_ids:
        await session.execute(
            insert(TaskReservation).values(
                task_id=task_id,
                project_id=project_id,
                user_id=user_id,
                expires_at=utcnow(),
                created_at=utcnow(),
            )
        )
    await session.commit()

    await asyncio.to_thread(command.upgrade, config, "head")

    held = await session.scalars(select(TaskReservation.task_id).where(TaskReservation.user_id == user_id))
    assert list(held) == [task_ids[-1]]
