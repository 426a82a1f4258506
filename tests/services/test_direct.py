"""Statements run on the driver itself return what SQLAlchemy returns and fail as SQLAlchemy's would:
a value the database refuses with its error, a lost connection as lost."""

from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import Integer, bindparam, func, literal_column, select, update
from sqlalchemy.exc import DBAPIError, StatementError

from app.db import direct
from app.db.models import Task
from app.domain.task_import import TaskItem
from app.services import imports
from tests.factories import make_actor, make_project

pytestmark = pytest.mark.core

TASK = bindparam("task")
READ = select(Task.id, Task.data, Task.meta, Task.is_labeled, Task.created_at, Task.completed_at).where(
    Task.id == TASK
)
DIVIDE = select(literal_column("1") / bindparam("by", type_=Integer))
TASKS = Task.__table__.c
STAMP = (
    Task.__table__.update()
    .where(TASKS.id == TASK)
    .values(completed_at=bindparam("at"), updated_at=bindparam("at"))
    .returning(TASKS.completed_at)
)


async def _task(session) -> int:
    actor, _ = await make_actor(session)
    project = await make_project(session, actor)
    item = TaskItem(
        data={"review_text": "héllo", "n": 2**63 + 1, "list": [1.5, None, {"a": True}]}, meta={"m": 1}
    )
    result = await imports.import_tasks(session, actor, project.id, [item])
    return result.task_ids[0]


async def test_rows_are_those_sqlalchemy_returns(engine, session):
    task_id = await _task(session)
    expected = [tuple(row) for row in await session.execute(READ, {"task": task_id})]
    assert await direct.rows(session, READ, {"task": task_id}) == expected
    assert (id(READ) in direct._PLANS) == (engine.dialect.name == "postgresql")  # run on the driver
    assert expected[0][1]["n"] == 2**63 + 1
    assert expected[0][4].tzinfo is not None
    assert await direct.first(session, READ, {"task": 0}) is None


async def test_values_go_through_the_columns_types(session):
    task_id = await _task(session)
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert await direct.scalar(session, STAMP, {"task": task_id, "at": at}) == at
    with pytest.raises(StatementError, match="naive datetime"):
        await direct.scalar(session, STAMP, {"task": task_id, "at": datetime(2026, 1, 2)})


async def test_a_statement_whose_values_are_made_at_execution_is_refused(engine, session):
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite every statement runs through SQLAlchemy")
    await _task(session)
    stamped = update(Task).where(Task.id == TASK).values(completed_at=None)  # and `updated_at` by default
    with pytest.raises(ValueError, match="made at execution"):
        await direct.rows(session, stamped, {"task": 1})


async def test_a_value_the_driver_cannot_take_fails_as_through_sqlalchemy(session):
    await _task(session)
    with pytest.raises(Exception) as through_sqlalchemy:  # noqa: PT011 (the same one, whichever)
        await session.execute(READ, {"task": 2**70})
    with pytest.raises(Exception) as run_directly:  # noqa: PT011
        await direct.rows(session, READ, {"task": 2**70})
    assert type(run_directly.value) is type(through_sqlalchemy.value)
    assert str(run_directly.value) == str(through_sqlalchemy.value)


async def test_a_statement_the_database_refuses_raises_its_error(engine, session):
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite every statement runs through SQLAlchemy")
    await _task(session)  # opens the transaction: the statement runs on the driver
    with pytest.raises(asyncpg.PostgresError) as raised:
        await direct.rows(session, DIVIDE, {"by": 0})
    assert raised.value.sqlstate == "22012"


async def test_a_lost_connection_is_reported_lost_and_replaced(engine, session):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no connection to lose")
    task_id = await _task(session)
    backend = await session.scalar(select(func.pg_backend_pid()))
    async with engine.connect() as other:
        await other.exec_driver_sql(f"SELECT pg_terminate_backend({backend})")
    with pytest.raises(DBAPIError) as raised:
        await direct.rows(session, READ, {"task": task_id})
    assert raised.value.connection_invalidated
    await session.rollback()
    assert await direct.rows(session, READ, {"task": task_id}) == []  # the import was rolled back
