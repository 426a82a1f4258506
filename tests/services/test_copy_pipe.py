"""An import is written a part at a time while the next part is checked and built: every row lands,
children after their parents, and an error in any part, found by the checks or by the database,
reaches the caller and leaves nothing once rolled back."""

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.db.bulk import copy_pipe
from app.db.models import Annotation, Prediction, Task
from app.domain.errors import Invalid
from app.domain.task_import import TaskItem
from app.services import imports
from tests.factories import make_actor, make_project

pytestmark = pytest.mark.core

CHOICE = {"from_name": "sentiment", "to_name": "text", "type": "choices"}
MANY = 10 * imports.PART + 3  # parts enough for the writer to take several turns


def item(i: int, choice: str = "Positive") -> TaskItem:
    result = [{**CHOICE, "value": {"choices": [choice]}}]
    return TaskItem(data={"review_text": f"review {i}"}, annotations=[{"result": result}])


async def test_every_part_is_written_with_each_annotation_on_its_own_task(session):
    actor, _ = await make_actor(session)
    project = await make_project(session, actor)
    result = await imports.import_tasks(session, actor, project.id, [item(i) for i in range(MANY)])
    await session.commit()
    rows = await session.execute(
        select(Task.inner_id, Task.data["review_text"].as_string(), Annotation.task_id == Task.id)
        .join(Annotation, Annotation.task_id == Task.id)
        .order_by(Task.inner_id)
    )
    assert [tuple(r) for r in rows] == [(i + 1, f"review {i}", True) for i in range(MANY)]
    assert len(result.task_ids) == result.annotation_count == MANY


async def test_a_bad_task_in_a_late_part_is_named_and_nothing_stays(session):
    actor, _ = await make_actor(session)
    project_id = (await make_project(session, actor)).id
    await session.commit()
    items = [item(i) for i in range(MANY)]
    items[-2] = item(MANY - 2, "Maybe")
    with pytest.raises(Invalid, match=f"task {MANY - 1}: .*Maybe"):
        await imports.import_tasks(session, actor, project_id, items)
    await session.rollback()
    assert await session.scalar(select(func.count()).select_from(Task)) == 0
    assert await session.scalar(select(func.count()).select_from(Annotation)) == 0
    again = await imports.import_tasks(session, actor, project_id, [item(0)])
    await session.commit()
    assert await session.scalar(select(Task.inner_id).where(Task.id == again.task_ids[0])) == 1


async def test_a_row_the_database_refuses_fails_the_write(session):
    actor, _ = await make_actor(session)
    project = await make_project(session, actor)
    await session.commit()
    task = (await imports.import_tasks(session, actor, project.id, [item(0)])).task_ids[0]
    table, columns = imports.TABLES[1]
    now = (await session.get_one(Task, task)).created_at
    row = (task, project.id, actor.user_id, [], False, False, None, {}, "imported", True, now, now)
    rows = [row] * 20 + [(10**9, *row[1:])] * 5  # then a task that is not there

    async def write() -> None:
        async with copy_pipe(session, (table, columns)) as pipe:
            for part in rows:
                await pipe.add([part])

    with pytest.raises((IntegrityError, asyncpg.ForeignKeyViolationError)):
        await write()
    await session.rollback()
    assert await session.scalar(select(func.count()).select_from(Task)) == 0


AWKWARD = 'a\\b\tc\nd\re \\N \\\\N "q" é 𝄞 \\u0041'


async def test_what_copy_must_escape_is_stored_as_given(session):
    """Backslashes, tabs, line ends and a literal \\N, in JSON and in plain text columns."""
    actor, _ = await make_actor(session)
    project = await make_project(session, actor)
    given = TaskItem(
        data={"review_text": AWKWARD, AWKWARD: [AWKWARD, 1.5, 2**63 + 1, None]},
        meta={"m": AWKWARD},
        annotations=[{"result": [], "lead_time": 0.1}],
        predictions=[{"result": [], "score": 7, "model_version": AWKWARD}],
    )
    ids = (await imports.import_tasks(session, actor, project.id, [given])).task_ids
    await session.commit()
    task = await session.get_one(Task, ids[0])
    assert (task.data, task.meta) == (given.data, given.meta)
    annotation = await session.scalar(select(Annotation).where(Annotation.task_id == task.id))
    assert annotation is not None
    assert (annotation.lead_time, annotation.result, annotation.created_at) == (0.1, [], task.created_at)
    prediction = await session.scalar(select(Prediction).where(Prediction.task_id == task.id))
    assert prediction is not None
    assert (prediction.model_version, prediction.score) == (AWKWARD, 7.0)
    assert task.created_at.tzinfo is not None
