"""Statements run on the driver itself return what SQLAlchemy returns and fail as SQLAlchemy's would:
a value the database refuses with its error, a lost connection as lost."""

from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Float, Integer, bindparam, cast, event, func, inspect, literal_column, select
from sqlalchemy.exc import DBAPIError, StatementError

from app.db import direct
from app.db.engine import make_sessionmaker
from app.db.models import Draft, Project, Task
from app.domain.task_import import TaskItem
from app.services import imports
from tests.factories import make_actor, make_project

pytestmark = pytest.mark.core

TASK = bindparam("task")
READ = select(
    Task.id,
    Task.data,
    Task.meta,
    Task.is_labeled,
    Task.created_at,
    Task.completed_at,
    cast(Task.id, Float).label("f"),
).where(Task.id == TASK)
DIVIDE = select(literal_column("1") / bindparam("by", type_=Integer))
TASK_COLUMNS = [prop.key for prop in inspect(Task).column_attrs]
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


async def test_each_value_is_the_one_given_else_the_one_the_statement_was_built_with(engine, session):
    task_id = await _task(session)
    built_with = select(Task.id, bindparam("label", "built"), literal_column("1") + 1).where(
        Task.id == TASK, Task.data["n"].as_string() != "0"
    )
    expected = [tuple(row) for row in await session.execute(built_with, {"task": task_id})]
    assert expected == [(task_id, "built", 2)]
    through_sqlalchemy: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        through_sqlalchemy.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        assert await direct.rows(session, built_with, {"task": task_id}) == expected
        given = await direct.rows(session, built_with, {"task": task_id, "label": "given"})
        assert given == [(task_id, "given", 2)]
        direct_only = not through_sqlalchemy
        with pytest.raises(StatementError, match="A value is required for bind parameter 'task'"):
            await direct.rows(session, built_with, {})
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert direct_only == (engine.dialect.name == "postgresql")  # on the driver itself


async def test_a_statement_whose_sql_is_made_at_execution_runs_through_sqlalchemy(engine, session):
    task_id = await _task(session)
    among = select(Task.id).where(Task.id.in_(bindparam("ids", expanding=True)))
    assert await direct.rows(session, among, {"ids": [task_id, 0]}) == [(task_id,)]
    assert await direct.rows(session, among, {"ids": []}) == []
    if engine.dialect.name == "postgresql":
        assert direct._PLANS[id(among)] == (among, None)  # known not to run on the driver


async def test_the_first_statement_begins_the_transaction_that_commit_and_rollback_end(engine, session):
    task_id = await _task(session)
    await session.commit()
    through_sqlalchemy: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        through_sqlalchemy.append(statement)

    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        assert await direct.scalar(session, STAMP, {"task": task_id, "at": at}) == at  # the first statement
        await session.rollback()
        assert (await _read(session, task_id))[5] is None
        await direct.scalar(session, STAMP, {"task": task_id, "at": at})
        await session.commit()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    async with make_sessionmaker(engine)() as other:
        assert (await _read(other, task_id))[5] == at
    stamped = [sql for sql in through_sqlalchemy if sql.startswith("UPDATE tasks")]
    assert len(stamped) == (0 if engine.dialect.name == "postgresql" else 2)  # on the driver itself


async def _read(session, task_id: int) -> tuple:
    return tuple((await session.execute(READ, {"task": task_id})).one())


async def test_objects_are_the_sessions_persistent_objects_as_the_orm_loads_them(engine, session):
    task_id = await _task(session)
    await session.commit()
    statement = (
        select(*direct.columns_of(Task), *direct.columns_of(Project), literal_column("7"))
        .join(Project, Project.id == Task.project_id)
        .where(Task.id == TASK)
    )
    task, project, seven = (await direct.objects(session, statement, {"task": task_id}, (Task, Project)))[0]
    assert seven == 7
    assert inspect(task).persistent
    assert inspect(project).persistent
    assert await session.get(Task, task_id) is task  # in the identity map: the ORM gives the same one
    loaded = {name: getattr(task, name) for name in TASK_COLUMNS}
    session.expunge_all()
    orm = await session.get_one(Task, task_id)
    assert loaded == {name: getattr(orm, name) for name in TASK_COLUMNS}
    assert project.id == orm.project_id

    orm.meta = {"changed": True}  # a change the next load overwrites, as populate_existing does
    again, _ = (await direct.objects(session, statement, {"task": task_id}, (Task, Project)))[0][:2]
    assert again is orm
    assert again.meta == {"m": 1}
    assert not session.is_modified(again)
    again.meta = {"changed": 2}
    await session.commit()  # a persistent object's change is flushed as an update
    async with make_sessionmaker(engine)() as other:
        assert (await other.get_one(Task, task_id)).meta == {"changed": 2}


async def test_an_outer_joins_missing_row_is_none(session):
    task_id = await _task(session)
    drafts = Draft.__table__
    statement = (
        select(*direct.columns_of(Task), *direct.columns_of(Draft))
        .outerjoin(drafts, drafts.c.task_id == Task.id)
        .where(Task.id == TASK)
    )
    [(task, draft)] = await direct.objects(session, statement, {"task": task_id}, (Task, Draft))
    assert task.id == task_id
    assert draft is None


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
